"""What the HTTP fakes share: starting and stopping, recording requests, queued replies.

- `Serving`: `with server:` calls its `start()` and, however the block ends, its `stop()`.
- `ScriptedServer`: a `ThreadingHTTPServer` on 127.0.0.1 (an ephemeral port) served from a
  background thread, with the requests it was sent (`requests`, `bodies`) and a queue of
  canned replies (`queue`, `pending`, `next_reply`). A fake subclasses it with its own
  reply and recorded-request types, its `handler` and its `no_reply()`.
- `QuietHandler` / `ScriptedHandler`: request handlers that log nothing, read the body,
  write the response, and let go of a client that hung up.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar


class Serving(ABC):
    """A server that is a context manager: entering starts it, leaving stops it."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def split(text: str, parts: int) -> list[str]:
    """`text` in about `parts` even pieces (at least one, maybe empty), to stream it."""
    size = max(1, -(-len(text) // max(1, parts)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class Recorded(Protocol):
    path: str
    body: Any


ReplyT = TypeVar("ReplyT")
RequestT = TypeVar("RequestT", bound=Recorded)


class OwnedHTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins the handler threads
    owner: ScriptedServer[Any, Any]


class ScriptedServer(Serving, Generic[ReplyT, RequestT]):
    """A scripted server; a context manager that runs it on an ephemeral port."""

    handler: ClassVar[type[ScriptedHandler]]
    url_path: ClassVar[str] = ""  # what `url` adds to `http://127.0.0.1:PORT`
    api_path: ClassVar[str | None] = None  # `bodies` are those of requests to it (None: all)
    poll_interval: ClassVar[float] = 0.05

    def __init__(self) -> None:
        self.requests: list[RequestT] = []
        self._replies: deque[ReplyT] = deque()
        self._lock = threading.Lock()
        self._httpd: OwnedHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()  # set when the server stops

    @abstractmethod
    def no_reply(self) -> ReplyT:
        """The answer when nothing is queued: an error, so an extra request fails clearly."""

    @property
    def url(self) -> str:
        """The base URL to give a client: `http://127.0.0.1:PORT` and `url_path`."""
        assert self._httpd is not None, "the server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{self.url_path}"

    @property
    def bodies(self) -> list[Any]:
        """The JSON bodies of the API requests received (those to `api_path`), in order."""
        return [r.body for r in self.requests if self.api_path is None or r.path == self.api_path]

    def queue(self, *replies: ReplyT) -> None:
        with self._lock:
            self._replies.extend(replies)

    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    def next_reply(self) -> ReplyT:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return self.no_reply()

    def record(self, request: RequestT) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> Self:
        httpd = OwnedHTTPServer(("127.0.0.1", 0), self.handler)
        httpd.owner = self
        self._httpd = httpd
        self.stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": self.poll_interval}
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing and lets go of a client that hung up mid-response."""

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def lower_headers(self) -> dict[str, str]:
        """The request's headers, names in lower case (as tests look them up)."""
        return {k.lower(): v for k, v in self.headers.items()}

    def respond(
        self,
        status: int,
        content_type: str,
        data: bytes,
        headers: dict[str, str] | None = None,
        *,
        sized: bool = True,
    ) -> None:
        """Status, `Content-Type`, `headers`, `Content-Length` when `sized`, then `data`.

        Without `sized` the body goes on after this (chunked, or until the connection closes).
        """
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if sized:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.write(data)

    def write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: nothing to answer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read `server.requests` instead."""


class ScriptedHandler(QuietHandler):
    """A handler of a `ScriptedServer`, which it reaches as `owner`."""

    server: OwnedHTTPServer

    @property
    def owner(self) -> ScriptedServer[Any, Any]:
        return self.server.owner
