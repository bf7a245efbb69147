"""Helpers for the MCP tests: the SDK-written test server, free ports, live processes."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fakes.serving import free_port, stop

SERVER = Path(__file__).parent / "fakes" / "mcp_server.py"
COMMAND = f"{shlex.quote(sys.executable)} {shlex.quote(str(SERVER))}"


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting to be reaped does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def pids(folder: Path) -> list[int]:
    return [int(p.name) for p in folder.iterdir()] if folder.exists() else []


def wait_until(check: object, what: str, limit: float = 60) -> None:
    """Poll `check()` until true; a generous limit, so a loaded machine only waits longer."""
    deadline = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


@contextmanager
def http_server(pid_dir: Path) -> Iterator[str]:
    """The test server over streamable HTTP on a free loopback port; its /mcp URL."""
    port = free_port()
    env = {**os.environ, "MCP_PID_DIR": str(pid_dir)}
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: listening(port) or proc.poll() is not None, "the MCP server")
        assert proc.poll() is None, "the MCP server exited"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(proc)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
