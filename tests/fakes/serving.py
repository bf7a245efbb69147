"""Starting real servers in tests: a free loopback port, waiting for a server process to
answer (failing at once if it exits instead), and stopping it."""

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
        assert proc.poll() is None, f"the server for {url} exited{_said(proc)}"
        try:
            if httpx.get(f"{url}{path}", trust_env=False, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server for {url} did not come up within {seconds:.0f} s")


def stop(proc: subprocess.Popen[bytes], *, seconds: float = 30) -> int:
    """Terminate `proc`, kill it if it is still running after `seconds`, close the pipes
    it was given; its exit status."""
    proc.terminate()
    try:
        code = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait(timeout=seconds)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    return code


def _said(proc: subprocess.Popen[bytes]) -> str:
    """What an exited process wrote to its stderr pipe, if it was given one."""
    return f": {proc.stderr.read()!r}" if proc.stderr is not None else ""
