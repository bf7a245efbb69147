"""Connections that cannot hold a worker: uvicorn's HTTP protocol with a header deadline,
and a log that does not grow with every bad connection.

uvicorn times out idle keep-alive connections but not a client that sends its headers a
byte at a time (slowloris): each such connection holds a file descriptor for as long as
the client likes. `GuardedH11Protocol` gives every request `header_seconds` from the
moment the server waits for it (connection made, or the previous response sent) to the
end of its headers, then closes the connection. The body has its own deadline in the app
(`intake.read_limited`, 408), and `Limits.connections` becomes uvicorn's
`limit_concurrency` (503 beyond it).

Every accepted connection gets `TCP_NODELAY`: asyncio sets it only on sockets created
with the TCP protocol number, and the socket uvicorn shares between worker processes is
not, so with `--workers N` small responses waited for the client's delayed ACK (40 ms).

With `--workers N` the workers share one listening socket, and asyncio's loop accepts
every connection waiting on it each time it is ready: a client opening its connections
at once (a pool, a load balancer, `wrk`) had them all taken by whichever worker woke
first, and the other workers sat idle. `SharedSocketLoop` takes one per turn of the loop,
so the workers split them, and a busy worker leaves more to an idle one. It is for
several workers only: accepting one at a time costs a lone worker about a quarter of its
requests per second from clients that open a connection per request.

`RepeatFilter` lets a log line through at most `burst` times per `window` seconds, then
says once how many it held back: a flood of malformed requests logs a few lines a
minute, not 166 MB.
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import logging
import socket
import time
from collections.abc import Callable
from typing import Any, ClassVar

import h11
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from dcaf_cli.server.limits import DEFAULT_LIMITS, Limits


class HeaderDeadline(asyncio.Protocol):
    """A connection's deadline for its next request's headers (see above), and
    `TCP_NODELAY`, for uvicorn's HTTP protocols (put it first among the bases):
    `_waiting()` says whether the connection waits for headers, and the protocol calls
    `_rearm()` once it has sent a response.

    `header_seconds` is a class attribute, not an argument: uvicorn's worker processes
    import the protocol class by name (`uvicorn_options` sets it, in each process, from
    the same `Limits`)."""

    header_seconds: ClassVar[float] = DEFAULT_LIMITS.header_seconds
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    # One timer a connection, not one a request: arming and disarming only move `_due`
    # (when the awaited headers are due; None when none are awaited), and the timer,
    # when it fires early, waits for the rest.
    _timer: asyncio.TimerHandle | None = None
    _due: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        no_delay(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _waiting(self) -> bool:
        raise NotImplementedError

    def _rearm(self) -> None:
        """The next request on this connection gets its own deadline."""
        if not self.transport.is_closing() and self._waiting():
            self._arm()

    def _arm(self) -> None:
        self._due = self.loop.time() + self.header_seconds
        if self._timer is None:
            self._timer = self.loop.call_at(self._due, self._when_due)

    def _disarm(self) -> None:
        self._due = None

    def _when_due(self) -> None:
        self._timer = None
        if self._due is None:
            return
        if self._due - self.loop.time() > 0.001:  # armed again since: wait for the rest
            self._timer = self.loop.call_at(self._due, self._when_due)
        elif self._waiting() and not self.transport.is_closing():
            self.transport.close()


class GuardedH11Protocol(HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol closing connections whose headers take too long."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._waiting():  # the headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._rearm()

    def _waiting(self) -> bool:
        return self.conn.their_state is h11.IDLE


class SharedSocketLoop(asyncio.SelectorEventLoop):
    """asyncio's loop, accepting one connection each time a listening socket is ready
    (see above); the others stay queued, for the next turn or another worker."""

    def _accept_connection(
        self, protocol_factory: Any, sock: Any, sslcontext: Any = None, server: Any = None,
        backlog: int = 100, *rest: Any, **options: Any
    ) -> None:  # fmt: skip
        accept = super()._accept_connection  # type: ignore[misc]
        accept(protocol_factory, sock, sslcontext, server, 1, *rest, **options)


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP `transport` (a no-op on other transports)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RepeatFilter(logging.Filter):
    """At most `burst` records with the same text per `window` seconds."""

    def __init__(
        self, burst: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.burst, self.window, self.clock = burst, window, clock
        self._seen: dict[str, tuple[float, int]] = {}  # text -> (window start, count)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        now = self.clock()
        start, count = self._seen.get(text, (now - self.window, 0))
        if now - start >= self.window:  # a new window: let it through
            if len(self._seen) > 1000:  # many distinct lines: forget the old ones
                self._seen.clear()
            self._seen[text] = (now, 1)
            if count > self.burst:
                _add_note(record, f" (and {count - self.burst} more like it before)")
            return True
        self._seen[text] = (start, count + 1)
        if count + 1 == self.burst + 1:
            _add_note(record, " (repeated; held back for a minute)")
        return count + 1 <= self.burst + 1


def _add_note(record: logging.LogRecord, note: str) -> None:
    """End `record`'s line with `note`, keeping its arguments: uvicorn's access formatter
    reads them one by one (it then shows the line without the note)."""
    record.msg = f"{record.msg}{note.replace('%', '%%') if record.args else note}"


def with_repeat_filter(base: dict[str, Any] = LOGGING_CONFIG) -> dict[str, Any]:
    """A logging set-up for uvicorn (`base`) with a `RepeatFilter` on each handler:
    applied by uvicorn in every worker process it starts."""
    config = copy.deepcopy(base)
    config["filters"] = {"repeats": {"()": f"{__name__}.RepeatFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["repeats"]
    return config


SHARED_SOCKET_LOOP = f"{__name__}:SharedSocketLoop"  # uvicorn's `loop` for several workers


def uvicorn_options(limits: Limits) -> dict[str, Any]:
    """The keyword arguments of `uvicorn.run` that carry `limits`: the httptools parser
    when it is installed (the server extra brings it; it parses a request in a fraction
    of h11's time), else h11."""
    HeaderDeadline.header_seconds = limits.header_seconds
    protocol = f"{__name__}:GuardedH11Protocol"
    if importlib.util.find_spec("httptools") is not None:
        protocol = "dcaf_cli.server.fastparser:GuardedHttpToolsProtocol"
    return {
        "http": protocol,
        "timeout_keep_alive": limits.keep_alive_seconds,
        "limit_concurrency": limits.connections,
        "h11_max_incomplete_event_size": 16 * 1024,  # headers larger than 16 KB: 400
        "log_config": with_repeat_filter(),
    }
