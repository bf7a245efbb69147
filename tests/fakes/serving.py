"""Starting real servers in tests: a free loopback port, and waiting for a server process
to answer (failing at once if it exits instead)."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; bind to port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str, proc: subprocess.Popen[bytes], *, seconds: float = 60, path: str = "/health"
) -> None:
    """Return once `GET url+path` answers 200; AssertionError if `proc` exits first or
    `seconds` pass (a generous bound: it only fails on a real hang)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server for {url} exited"
        try:
            if httpx.get(f"{url}{path}", trust_env=False, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server for {url} did not come up within {seconds:.0f} s")
