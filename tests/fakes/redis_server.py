"""A real `redis-server` on 127.0.0.1 (a free port, no persistence), for the tests of the
many-hosts ledger::

    with RedisServer() as redis:
        RedisLedger(redis.url)

`stop()` and `start()` again (same port) let a test take Redis away mid-run and bring it
back. Tests that need it skip, with the reason, where `redis-server` is not installed
(`.ci/run` installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from fakes.httpd import Serving
from fakes.serving import free_port, stop

START_DEADLINE = 20.0


def require_redis() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return path


class RedisServer(Serving):
    def __init__(self, folder: Path) -> None:
        self.binary = require_redis()
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        args = [
            self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "yes",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder
        )
        deadline = time.monotonic() + START_DEADLINE
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process, seconds=10)
        self.process = None
