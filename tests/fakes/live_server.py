"""A real uvicorn server on 127.0.0.1 (ephemeral port), in a thread, for tests::

    with LiveServer(create_app(agent)) as server:
        httpx.post(f"{server.url}/api/chat", json=...)

The socket is bound before the thread starts, so the port is known at once; leaving the
block asks uvicorn to exit and joins the thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from fakes.httpd import Serving


class LiveServer(Serving):
    def __init__(self, app: Any, **options: Any) -> None:
        """`options` go to `uvicorn.Config` (`uvicorn_options(limits)`, as `dcaf serve`)."""
        settings: dict[str, Any] = {
            "log_level": "warning",
            "access_log": False,
            "lifespan": "off",
            "ws": "none",
            "http": "h11",
            "loop": "asyncio",
            "timeout_graceful_shutdown": 2,
        }
        config = uvicorn.Config(app, **{**settings, **options})
        self.server = uvicorn.Server(config)
        # proto=IPPROTO_TCP, or asyncio leaves Nagle on (40 ms per keep-alive request).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60  # generous: only a failure waits this long
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextlib.contextmanager
def serving(apps: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Several live servers at once: `{name: url}`; stopped together (in parallel)."""
    servers = [LiveServer(app) for app in apps.values()]
    try:
        for server in servers:
            server.start()
        yield {name: server.url for name, server in zip(apps, servers, strict=True)}
    finally:
        for server in servers:
            server.server.should_exit = True
        for server in servers:
            if server.thread.is_alive() or server.server.started:
                server.stop()
            else:
                server.sock.close()


# What every client of the server must send with a body (see dcaf_cli.server.guard).
JSON_HEADERS = {"content-type": "application/json"}
