"""The HTTP server under load: requests per second with 1 and 4 workers, and what a
100 KB session adds to a request's latency.

Real uvicorn processes on 127.0.0.1 (`uvicorn --factory dcaf_cli.server.entry:app_from_env`,
exactly what `dcaf serve --workers N` runs, minus the access log), the shop agent with
the offline model, and httpx clients in a few threads, each on its own keep-alive
connection. Every figure is compared with one taken in the same run: throughput with
`GET /health` on the same server (the HTTP and framework cost alone) and with the
1-worker figure; the 100 KB session's latency with an empty session's, and the added
latency with one `json.loads` + `json.dumps` of the same payload in this process.
No targets: DESIGN.md section 10 sets none for the server. Bounded to ~20-30 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx

from benchmarks import Row, best_of
from benchmarks.serving import free_port, stop, wait_until_up

REQUESTS = 320  # per throughput figure
THREADS = 8
LATENCY_SAMPLES = 30
SMALL_SESSION = {"cart": [{"item": "widget", "quantity": 2}]}
RPS = " req/s"


def big_session(size: int = 100_000) -> dict[str, Any]:
    """A session of about `size` bytes of JSON: the cart plus a long order history."""
    entry = {"order": 0, "item": "widget", "quantity": 2, "note": "x" * 40}
    per = len(json.dumps(entry)) + 2
    history = [{**entry, "order": i} for i in range(size // per)]
    return {**SMALL_SESSION, "history": history}


def chat_body(session: dict[str, Any]) -> bytes:
    message = {"role": "user", "content": "add 1 gadget", "data": {"session": session}}
    return json.dumps({"messages": [message]}).encode()


@contextmanager
def server(workers: int) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DCAF_SERVE_AGENT": "dcaf_cli.examples.shop"}
    env["DCAF_APPROVAL_KEY"] = "00" * 32
    env.pop("DCAF_SESSION_SECRET", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "dcaf_cli.server.entry:app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        yield url
    finally:
        stop(proc)


def _load(url: str, send: Callable[[httpx.Client], httpx.Response]) -> float:
    """Requests per second: REQUESTS requests from THREADS keep-alive clients."""

    def worker(count: int) -> None:
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
            for _ in range(count):
                response = send(client)
                if response.status_code != 200:
                    raise RuntimeError(f"the server answered {response.status_code}")

    per_thread = REQUESTS // THREADS
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, [5] * THREADS))  # warm up every worker process a little
        start = time.perf_counter()
        list(pool.map(worker, [per_thread] * THREADS))
        elapsed = time.perf_counter() - start
    return per_thread * THREADS / elapsed


def _post(body: bytes) -> Callable[[httpx.Client], httpx.Response]:
    headers = {"content-type": "application/json"}
    return lambda client: client.post("/api/chat", content=body, headers=headers)


def _health(client: httpx.Client) -> httpx.Response:
    return client.get("/health")


def bench_http() -> list[Row]:
    """All four figures, so each server is started once (start-up dominates the time)."""
    with server(1) as url:
        health = _load(url, _health)
        one = _load(url, _post(chat_body(SMALL_SESSION)))
        latency = _session_latency(url)
    with server(4) as url:
        four = _load(url, _post(chat_body(SMALL_SESSION)))
    return [
        Row("POST /api/chat, shop, 1 worker", one, RPS, health, "GET /health, 1 worker",
            note=f"{THREADS} client threads, keep-alive; offline model"),
        Row("POST /api/chat, shop, 4 workers", four, RPS, one, "1 worker",
            note=f"{os.cpu_count()} CPUs, shared with the client threads"),
        *latency,
    ]  # fmt: skip


def _latencies(client: httpx.Client, bodies: dict[str, bytes]) -> dict[str, list[float]]:
    """Sequential request times, the bodies interleaved so load hits them alike."""
    out: dict[str, list[float]] = {name: [] for name in bodies}
    headers = {"content-type": "application/json"}
    for _ in range(LATENCY_SAMPLES):
        for name, body in bodies.items():
            start = time.perf_counter()
            response = client.post("/api/chat", content=body, headers=headers)
            out[name].append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"the server answered {response.status_code}")
    return out


def _session_latency(url: str) -> list[Row]:
    bodies = {"empty": chat_body({}), "100 KB": chat_body(big_session())}
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        _latencies(client, bodies)  # warm up
        times = {name: statistics.median(ts) for name, ts in _latencies(client, bodies).items()}
    payload = bodies["100 KB"]
    json_once, _ = best_of(lambda: json.dumps(json.loads(payload)), repeat=20)
    added = times["100 KB"] - times["empty"]
    size = f"{len(payload) / 1024:.0f} KiB request"
    return [
        Row("POST /api/chat latency, 100 KB session", times["100 KB"], "s", times["empty"],
            "empty session", note=f"median of {LATENCY_SAMPLES}, sequential; {size}"),
        Row("added latency of a 100 KB session", added, "s", json_once,
            "json.loads+dumps of it once", note="server parse, check, copy, reply + client"),
    ]  # fmt: skip
