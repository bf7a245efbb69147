"""Starting uvicorn with dcaf's errors: one line and an exit code, never uvicorn's own.

uvicorn reports a failed start by logging it and exiting 3, which to `dcaf` means
"locked". So `dcaf serve` checks the port first (`check_port`: a port in use is the
user's to change, exit 2), and `run_uvicorn` turns any other failure to start into one
line and exit 1, with uvicorn's error message in it instead of on a line of its own.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable

from dcaf_cli.errors import DcafError, UsageError

UVICORN_LOGGER = "uvicorn.error"
SERVING = "Uvicorn running on"  # uvicorn logs it once the socket is bound
WORKER_FAILED = "failed to start"  # "Child process [N] failed to start, stopping the parent"


def check_port(host: str, port: int) -> int:
    """The port uvicorn can bind on `host` now: `port`, or for 0 a free one the system
    picks (so `dcaf serve --port 0` says where it listens). UsageError if there is none.

    The socket is set up as uvicorn sets up its own (SO_REUSEADDR on, except on Windows
    where it would let two servers share the port), so a port left in TIME_WAIT by a
    server that just stopped is free, as it is to uvicorn, while a port another server
    listens on is not.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {host} is in use; choose another with --port"
                ) from None
            reason = exc.strerror or str(exc)
            raise UsageError(f"cannot listen on {host} port {port}: {reason}") from None
        except OverflowError:  # a port outside 0-65535
            raise UsageError(f"--port {port} is not a port number (0 to 65535)") from None
        return int(sock.getsockname()[1])


class _StartupErrors(logging.Filter):
    """Holds back uvicorn's error records until it serves (they go into dcaf's line),
    and keeps every error message it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.serving = False

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            if not self.serving or WORKER_FAILED in message:  # not every error of a long run
                self.errors.append(message.splitlines()[0] if message else record.levelname)
            return self.serving
        if message.startswith(SERVING):
            self.serving = True
        return True


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_uvicorn(run: Callable[[], None]) -> None:
    """Call `run` (a `uvicorn.run(...)`); DcafError (exit 1) if the server did not start.

    SIGTERM is a clean stop: uvicorn stops accepting, lets the requests in flight finish
    (bounded by its graceful-shutdown timeout), then raises the signal again; dcaf then
    exits 0 instead of dying of it, as service managers expect.
    """
    watcher = _StartupErrors()
    logger = logging.getLogger(UVICORN_LOGGER)
    logger.addFilter(watcher)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stopped) if in_main else None
    try:
        run()
    except SystemExit as exc:
        if exc.code in (0, None):
            return
        said = watcher.errors[-1] if watcher.errors else f"uvicorn exited with {exc.code}"
        raise DcafError(f"the server did not start: {said}") from None
    finally:
        logger.removeFilter(watcher)
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    if any(WORKER_FAILED in error for error in watcher.errors):  # uvicorn gave up on them
        raise DcafError("the server did not start: a worker failed to start (see its log above)")
