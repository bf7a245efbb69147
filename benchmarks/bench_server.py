"""`dcaf serve` under load, next to the floor (the least a FastAPI server can do) and,
when one is configured, the reference DCAF server, all serving the session guide's
counter agent (`call_count` in `data.session`).

The servers, started as their users start them, each on a free loopback port:

* `dcaf serve counter` with 1 worker and with `--workers 2`, and `dcaf serve shop --model
  offline` (the tool agent);
* the floor: `uvicorn benchmarks.floor_app:app`, twenty lines of FastAPI;
* the reference: `benchmarks/reference_app.py` (DCAF's `serve(my_agent)`) run by the python
  that `DCAF_BENCH_REFERENCE` names (`make bench-reference-env` builds one; without it the
  reference is left out and one line says so).

All log their requests as they do by default (to nowhere). `wrk` (one thread, 16
connections, 5 s; `benchmarks/load.py`) drives them in turn, twice over (ours, floor,
reference, ..., ours, floor, reference, ...) so a burst of load on the machine hits them
alike; the best round of each is kept. A request that fails fails its row.

The 100 KB session's cost is the median latency it adds at one connection (2 s each,
in the same rounds), against what `json.loads` + `json.dumps` of the same body costs in
this process: what any server must pay to read and answer it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks import Row, best_of
from benchmarks.bench_startup import DCAF
from benchmarks.load import PYTHON_NOTE, Load, client_name, drive
from benchmarks.serving import free_port, stop, wait_until_up

CONNECTIONS = 16
SECONDS = 5.0  # a throughput run
LATENCY_SECONDS = 2.0  # a one-connection run, for the 100 KB session's added latency
ROUNDS = 2
REPO = Path(__file__).resolve().parents[1]
REFERENCE = "DCAF_BENCH_REFERENCE"
RPS = " req/s"
UVICORN = [sys.executable, "-m", "uvicorn"]
FLOOR = "floor (FastAPI)"
# req/s at least these times the floor's, the reference's, the floor's; p99 at most 1.2x
TARGETS = {"floor": 0.8, "reference": 1.3, "shop": 0.7, "p99": 1.2}


def chat_body(session: dict[str, Any], content: str = "hello") -> bytes:
    message = {"role": "user", "content": content, "data": {"session": session}}
    return json.dumps({"messages": [message]}).encode()


def big_session(size: int = 100_000) -> dict[str, Any]:
    """A counter session of about `size` bytes of JSON: the count and a long history."""
    entry = {"order": 0, "item": "widget", "quantity": 2, "note": "x" * 40}
    per = len(json.dumps(entry)) + 2
    return {"call_count": 41, "history": [{**entry, "order": i} for i in range(size // per)]}


COUNTER = chat_body({"call_count": 41})
SHOP = chat_body({"cart": [{"item": "widget", "quantity": 2}]}, "add 1 gadget")
BIG = chat_body(big_session())


def server_commands(reference: str | None) -> dict[str, list[str]]:
    """name -> the command that starts it, with `{port}` where its port goes; in the
    order they are measured."""
    dcaf_serve = [*DCAF, "serve", "--port", "{port}"]
    commands = {
        "ours": [*dcaf_serve, "counter"],
        "floor": [*UVICORN, "benchmarks.floor_app:app", "--host", "127.0.0.1", "--port", "{port}"],
    }
    if reference:  # -P: the script's folder (ours) must not shadow the reference's modules
        commands["reference"] = [reference, "-P", str(REPO / "benchmarks/reference_app.py")]
        commands["reference"].append("{port}")
    commands["shop"] = [*dcaf_serve, "shop", "--model", "offline"]
    commands["ours x2"] = [*dcaf_serve, "counter", "--workers", "2"]
    return commands


@contextmanager
def servers(commands: dict[str, list[str]]) -> Iterator[dict[str, str]]:
    """Start them all at once, wait until each answers /health; name -> base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCAF_")}
    with ExitStack() as stack:
        started: dict[str, tuple[str, subprocess.Popen[bytes], Any]] = {}
        for name, command in commands.items():
            port = str(free_port())
            log = stack.enter_context(tempfile.TemporaryFile())
            argv = [part.replace("{port}", port) for part in command]
            proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=log)
            stack.callback(stop, proc)
            started[name] = (f"http://127.0.0.1:{port}", proc, log)
        for name, (url, proc, log) in started.items():
            try:
                wait_until_up(url, proc)
            except RuntimeError as exc:
                raise RuntimeError(f"{name}: {exc}: {_last_line(log)}") from None
        yield {name: url for name, (url, _, _) in started.items()}


def _last_line(log: Any) -> str:
    log.seek(0)
    lines = log.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(it printed nothing)"


class Run(NamedTuple):
    key: str  # what the figures are filed under
    server: str
    body: bytes
    connections: int
    seconds: float


def plan(servers: Iterable[str]) -> list[Run]:
    """A round: throughput on every server, then the one-connection latencies."""
    runs = [Run(name, name, SHOP if name == "shop" else COUNTER, CONNECTIONS, SECONDS)
            for name in servers]  # fmt: skip
    for name in ("ours", "floor"):
        for size, body in (("small", COUNTER), ("100 KB", BIG)):
            runs.append(Run(f"{name} {size}", name, body, 1, LATENCY_SECONDS))
    return runs


def measure(urls: dict[str, str]) -> dict[str, list[Load]]:
    """Every run of every round, the servers alternating; a short warm-up first (every
    worker loads what it needs)."""
    runs = plan(urls)
    for run in runs[: len(urls)]:
        drive(f"{urls[run.server]}/api/chat", run.body, connections=CONNECTIONS, seconds=1)
    loads: dict[str, list[Load]] = {run.key: [] for run in runs}
    for _ in range(ROUNDS):
        for run in runs:
            url = f"{urls[run.server]}/api/chat"
            load = drive(url, run.body, connections=run.connections, seconds=run.seconds)
            loads[run.key].append(load)
    return loads


def bench_http() -> list[Row]:
    reference = os.environ.get(REFERENCE) or None
    if reference is None:
        print(f"server: the reference DCAF server was not measured: set {REFERENCE} to a python "
              "with dcaf installed (make bench-reference-env builds .bench/reference)")  # fmt: skip
    elif (found := shutil.which(reference)) is None:
        raise RuntimeError(f"{REFERENCE}={reference}: there is no such program (a python, "
                           "with dcaf installed, is expected)")  # fmt: skip
    else:
        reference = found  # the servers start in the checkout's folder
    if client_name() == "python":
        print(f"server: {PYTHON_NOTE}")
    with servers(server_commands(reference)) as urls:
        runs = measure(urls)
    return rows(runs)


def _best(loads: list[Load]) -> Load:
    """The best run's figures, and every run's failures."""
    return Load(
        requests_per_s=max(x.requests_per_s for x in loads),
        p50=min(x.p50 for x in loads),
        p99=min(x.p99 for x in loads),
        requests=sum(x.requests for x in loads),
        failed=sum(x.failed for x in loads),
        client=loads[0].client,
    )


def rows(runs: dict[str, list[Load]]) -> list[Row]:
    best = {name: _best(loads) for name, loads in runs.items()}
    return [*_throughput_rows(best), *_session_rows(best)]


def _throughput_rows(best: dict[str, Load]) -> list[Row]:
    ours, floor, shop, two = best["ours"], best["floor"], best["shop"], best["ours x2"]
    where = f"{CONNECTIONS} connections, best of {ROUNDS} rounds of {SECONDS:g} s ({ours.client})"
    goal: dict[str, float | None] = dict(TARGETS)
    if ours.client != "wrk":  # a Python client bounds what it measures at 16 connections
        goal = dict.fromkeys(TARGETS)
        where += ": figures bounded by the client, so no targets"
    out = [
        Row("dcaf serve counter, 1 worker", ours.requests_per_s, RPS, floor.requests_per_s,
            FLOOR, min_ratio=goal["floor"], note=where, error=ours.error or floor.error),
    ]  # fmt: skip
    if "reference" in best:
        ref = best["reference"]
        note = "its reply carries no session (role and content only)"
        out += [
            Row("dcaf serve counter, vs the reference", ours.requests_per_s, RPS,
                ref.requests_per_s, "reference DCAF", min_ratio=goal["reference"],
                error=ref.error, note=note),
            Row("reference DCAF server, counter", ref.requests_per_s, RPS,
                floor.requests_per_s, FLOOR, error=ref.error),
        ]  # fmt: skip
    return [
        *out,
        Row("dcaf serve shop (offline model)", shop.requests_per_s, RPS, floor.requests_per_s,
            FLOOR, min_ratio=goal["shop"], error=shop.error, note="one add_to_cart call a turn"),
        Row(f"p99 latency at {CONNECTIONS} connections", ours.p99, "s", floor.p99, FLOOR,
            max_ratio=goal["p99"], error=ours.error or floor.error),
        Row("dcaf serve counter, 2 workers", two.requests_per_s, RPS, ours.requests_per_s,
            "1 worker", error=two.error, note=_scaling_note()),
    ]  # fmt: skip


def _scaling_note() -> str:
    return (f"{os.cpu_count()} CPUs shared by the workers and the load generator (the idle "
            "servers cost nothing): wrk takes much of one, so 2 workers get about one and a "
            "half; wrk opens its connections at once, and each worker takes one at a "
            "time, so both get some")  # fmt: skip


def _session_rows(best: dict[str, Load]) -> list[Row]:
    json_cost, _ = best_of(lambda: json.dumps(json.loads(BIG)).encode(), repeat=20)
    baseline = "json.loads+dumps of it"
    size = f"{len(BIG) / 1024:.0f} KiB request, 1 connection, median"
    added = {
        name: best[f"{name} 100 KB"].p50 - best[f"{name} small"].p50 for name in ("ours", "floor")
    }
    failed = {name: best[f"{name} 100 KB"].error or best[f"{name} small"].error for name in added}
    return [
        Row("added latency of a 100 KB session", added["ours"], "s", json_cost, baseline,
            max_ratio=1.0, note=size, error=failed["ours"]),
        Row("floor: added latency of the same", added["floor"], "s", json_cost, baseline,
            error=failed["floor"]),
        Row("latency at 1 connection, small session", best["ours small"].p50, "s",
            best["floor small"].p50, FLOOR, error=failed["ours"] or failed["floor"]),
    ]  # fmt: skip
