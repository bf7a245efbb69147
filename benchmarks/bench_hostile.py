"""The server against hostile load: a 1 MB slash argument, a flood of maximal requests,
and a flood of clients that never finish their headers.

- *Parse time of a 1 MB slash argument* (`/tool '<1 MB>'` and 1 MB of short words), with
  `str.split` of the same text as the baseline: both are linear, so the ratio stays put
  as the argument grows. `shlex.split` of a 100 KB argument is shown for scale (it is
  quadratic: 1 MB took minutes).
- *Redacting 1 MB of text* (one long word, then a long dotted word), with `str.split` of
  the same text as the baseline: every view redacts what it shows, so a tool's 1 MB
  output must cost linear time (trying each letter as the start of a name took minutes).
- *Peak RSS of a worker under maximal requests*: `dcaf serve shop` (one worker, default
  limits) gets 16 requests at once, each a 4 MiB body just under the limit on JSON
  values (a session of ~200,000 keys); the figure is the server process's peak resident
  set (VmHWM), against its resident set once started. The target is the figure stated
  in docs/protocol.md: 600 MB, whatever the number of requests (8 run, the rest wait).
- */health latency during a slow-client flood*: 400 connections each send half a
  request's headers and stop; the median of 30 `GET /health` is compared with the median
  before the flood. Bounded: 400 sockets on 127.0.0.1, a few seconds.

Loopback only; about 20-40 s in all (the memory figure sends 64 MB).
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from benchmarks import Row, best_of
from benchmarks.serving import free_port, stop, wait_until_up
from dcaf_cli.session.redact import redact_text
from dcaf_cli.tools.slashcall import parse_slash_call

MB = 1_000_000
MAXIMAL_REQUESTS = 16
SLOW_CLIENTS = 400
HEALTH_SAMPLES = 30
RSS_LIMIT = 600 * 1024 * 1024


def bench_slash_parse() -> list[Row]:
    quoted = "/remember '" + "x" * MB + "'"
    words = "/remember " + "ab " * (MB // 3)
    one, _ = best_of(lambda: parse_slash_call(quoted, {"note": "string"}), repeat=5)
    many, _ = best_of(lambda: parse_slash_call(words, {"note": "string"}), repeat=3)
    split_one, _ = best_of(quoted.split, repeat=5)
    split_many, _ = best_of(words.split, repeat=3)
    small = "x" * 100_000
    old, _ = best_of(lambda: shlex.split(small), repeat=1)
    return [
        Row("slash call, one 1 MB quoted argument", one, "s", split_one, "str.split of it",
            limit=0.5, note=f"shlex.split of a 100 KB argument: {old:.2f} s (quadratic)"),
        Row("slash call, 1 MB of 333k words", many, "s", split_many, "str.split of it",
            limit=2.0),
    ]  # fmt: skip


def bench_redact_text() -> list[Row]:
    rows = []
    for what, text in (
        ("a 1 MB word", "/remember note " + "w" * MB),
        ("a 1 MB dotted word", "/remember note " + "a." * (MB // 2)),
    ):
        took, _ = best_of(lambda text=text: redact_text(text), repeat=3)
        split, _ = best_of(text.split, repeat=3)
        rows.append(Row(f"redact {what}", took, "s", split, "str.split of it", limit=2.0))
    return rows  # fmt: skip


def bench_maximal_requests() -> list[Row]:
    body = _maximal_body()
    with _dcaf_serve() as (url, pid):
        idle = _rss(pid, "VmRSS")
        with ThreadPoolExecutor(MAXIMAL_REQUESTS) as pool:
            statuses = list(pool.map(lambda _: _post(url, body), range(MAXIMAL_REQUESTS)))
        peak = _rss(pid, "VmHWM")
    if any(status != 200 for status in statuses):
        raise RuntimeError(f"maximal requests answered {sorted(set(statuses))}")
    note = f"{MAXIMAL_REQUESTS} at once, {len(body) / 2**20:.1f} MiB each, 1 worker"
    return [
        Row("server peak RSS, maximal requests", peak, "B", idle, "RSS once started",
            limit=RSS_LIMIT, note=note),
    ]  # fmt: skip


def bench_health_during_slow_clients() -> list[Row]:
    with _dcaf_serve() as (url, _), httpx.Client(base_url=url, trust_env=False) as client:
        before = _health_median(client)
        host, port = url.removeprefix("http://").split(":")
        with ExitStack() as stack:
            for _ in range(SLOW_CLIENTS):
                sock = stack.enter_context(socket.create_connection((host, int(port))))
                sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            during = _health_median(client)
    return [
        Row("GET /health during a slow-client flood", during, "s", before, "no flood",
            max_ratio=5.0, note=f"{SLOW_CLIENTS} connections stalled in their headers"),
    ]  # fmt: skip


# -- helpers ------------------------------------------------------------------------------


def _maximal_body() -> bytes:
    """4 MiB of JSON with as many values as the default limit lets through."""
    keys = 199_000
    session = {f"k{i:06x}": 0 for i in range(keys)}
    message = {"role": "user", "content": "what is in my cart", "data": {"session": session}}
    body = json.dumps({"messages": [message]}, separators=(",", ":"))
    session["pad"] = "x" * (4 * 2**20 - len(body) - 20)  # type: ignore[assignment]
    return json.dumps({"messages": [message]}, separators=(",", ":")).encode()


def _post(url: str, body: bytes) -> int:
    headers = {"content-type": "application/json"}
    with httpx.Client(trust_env=False, timeout=120) as client:
        return client.post(f"{url}/api/chat", content=body, headers=headers).status_code


def _health_median(client: httpx.Client) -> float:
    times = []
    for _ in range(HEALTH_SAMPLES):
        start = time.perf_counter()
        if client.get("/health").status_code != 200:
            raise RuntimeError("/health failed")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _rss(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return float(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


@contextmanager
def _dcaf_serve() -> Iterator[tuple[str, int]]:
    """`dcaf serve shop` on a free loopback port: (url, pid)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCAF_")}
    command = [sys.executable, "-m", "dcaf_cli", "serve", "shop", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        yield url, proc.pid
    finally:
        stop(proc)
