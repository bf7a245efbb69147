"""The approval ledger on many hosts: what a claim costs in Redis (a real `redis-server`
on a free loopback port, no persistence) next to the in-memory and SQLite ledgers, and
that requests without an approval cost the same whichever ledger the server has (they
never reach it: the number of claims they made is in the note).

Skipped, with a note, where `redis-server` is not installed.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import Row, time_statements
from benchmarks.serving import free_port
from dcaf_cli.examples import shop
from dcaf_cli.server.ledger import MemoryLedger, SqliteLedger

PLAIN = {"messages": [{"role": "user", "content": "/view_cart", "data": {"session": {}}}]}


def _redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(8).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("redis-server did not start")


class _Counted:
    def __init__(self, inner: Any) -> None:
        self.inner, self.claims = inner, 0

    def claim(self, entries: Any) -> list[str]:
        self.claims += 1
        return list(self.inner.claim(entries))


def bench_claims_and_requests() -> list[Row]:
    if shutil.which("redis-server") is None:
        return [Row("redis ledger", 0.0, unit="", note="redis-server is not installed: skipped")]
    from starlette.testclient import TestClient

    from dcaf_cli.server import create_app
    from dcaf_cli.server.redis_ledger import RedisLedger

    with tempfile.TemporaryDirectory(prefix="dcaf-bench-") as folder:
        proc, url = _redis(Path(folder))
        try:
            keys = itertools.count()
            later = time.time() + 3600
            ledgers = {
                "memory": MemoryLedger(),
                "sqlite": SqliteLedger(Path(folder) / "ledger.sqlite3"),
                "redis": RedisLedger(url),
            }
            claim = "ledgers[{!r}].claim({{f'k{{next(keys)}}': later}})"
            claims = time_statements(
                {name: claim.format(name) for name in ledgers},
                {"ledgers": ledgers, "keys": keys, "later": later},
                repeat=7,
            )  # fmt: skip
            counted = {"memory": _Counted(MemoryLedger()), "redis": _Counted(RedisLedger(url))}
            clients = {
                name: TestClient(create_app(shop.agent, ledger=ledger))
                for name, ledger in counted.items()
            }
            with clients["memory"], clients["redis"]:
                requests = time_statements(
                    {name: f"clients[{name!r}].post('/api/chat', json=body)" for name in clients},
                    {"clients": clients, "body": PLAIN},
                    repeat=7,
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    made = counted["redis"].claims
    return [
        Row("claim of one approval: redis", claims["redis"], baseline=claims["memory"],
            baseline_name="in memory", note="a loopback round trip"),
        Row("claim of one approval: sqlite", claims["sqlite"], baseline=claims["memory"],
            baseline_name="in memory"),
        Row("request without approval, redis ledger", requests["redis"],
            baseline=requests["memory"], baseline_name="same, in-memory ledger"),
        Row("ledger claims made by those requests", float(made), unit="", limit=0.0,
            note="requests without an approval never reach the ledger"),
    ]  # fmt: skip
