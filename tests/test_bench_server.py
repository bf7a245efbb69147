"""The server benchmark's code, not its figures: the floor app answers as `dcaf serve`
does, wrk's report is read right, the load clients count failures, and a failed request
fails its row. No test here asserts a time."""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
HEADERS = {"content-type": "application/json"}

# What wrk 4 printed, captured: a run against the floor app, one against a path it
# answers 404, one against a server closing every connection after its answer, and one
# against a port nothing listens on (its stderr).
WRK_OK = """\
Running 2s test @ http://127.0.0.1:18766/api/chat
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.68ms   11.28ms  88.44ms   92.86%
    Req/Sec     2.13k     0.99k    4.23k    80.00%
  Latency Distribution
     50%    6.22ms
     75%    9.93ms
     90%   17.02ms
     99%   65.81ms
  4264 requests in 2.01s, 0.86MB read
Requests/sec:   2124.94
Transfer/sec:    439.93KB
"""
WRK_NOT_FOUND = """\
Running 1s test @ http://127.0.0.1:18766/nothere
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.75ms   14.72ms  80.08ms   90.86%
    Req/Sec     2.87k     0.89k    3.66k    90.00%
  Latency Distribution
     50%    5.09ms
     75%    6.56ms
     90%   18.89ms
     99%   74.11ms
  2917 requests in 1.08s, 438.82KB read
  Non-2xx or 3xx responses: 2917
Requests/sec:   2708.57
Transfer/sec:    407.46KB
"""
WRK_CLOSED = """\
Running 1s test @ http://127.0.0.1:18802/api/chat
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.94ms    1.68ms   9.83ms   85.89%
    Req/Sec     4.08k     1.35k    5.61k    70.00%
  Latency Distribution
     50%   62.00us
     75%    1.22ms
     90%    3.36ms
     99%    7.35ms
  4080 requests in 1.01s, 159.38KB read
  Socket errors: connect 0, read 4080, write 0, timeout 0
Requests/sec:   4048.92
Transfer/sec:    158.16KB
"""
WRK_REFUSED = "unable to connect to 127.0.0.1:1 Connection refused\n"


def _import(name: str) -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO))  # `benchmarks` lives beside the package
        return importlib.import_module(name)


@pytest.fixture(scope="module")
def load() -> ModuleType:
    return _import("benchmarks.load")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _import("benchmarks.bench_server")


def test_parse_wrk_reads_the_rate_the_percentiles_and_the_count(load: ModuleType) -> None:
    figures = load.parse_wrk(WRK_OK)
    assert figures.requests_per_s == 2124.94
    assert figures.p50 == pytest.approx(6.22e-3)
    assert figures.p99 == pytest.approx(65.81e-3)
    assert (figures.requests, figures.failed, figures.error) == (4264, 0, "")
    assert load.parse_wrk(WRK_CLOSED).p50 == pytest.approx(62e-6)


def test_parse_wrk_counts_failed_answers_and_socket_errors(load: ModuleType) -> None:
    not_found = load.parse_wrk(WRK_NOT_FOUND)
    assert (not_found.requests, not_found.failed) == (2917, 2917)
    assert not_found.error == "2917 of 2917 requests failed"
    assert load.parse_wrk(WRK_CLOSED).failed == 4080


def test_parse_wrk_without_figures_says_what_wrk_said(load: ModuleType) -> None:
    with pytest.raises(RuntimeError, match=r"no figures: unable to connect to 127\.0\.0\.1:1 "):
        load.parse_wrk("", WRK_REFUSED)


# -- real servers: `dcaf serve counter` and the floor app, as the benchmark starts them ---


@pytest.fixture(scope="module")
def urls(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    commands = bench.server_commands(None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        with bench.servers({name: commands[name] for name in ("ours", "floor")}) as started:
            yield started


def test_the_floor_answers_as_dcaf_serve_does(bench: ModuleType, urls: dict[str, str]) -> None:
    replies = {
        name: httpx.post(f"{url}/api/chat", content=bench.COUNTER, headers=HEADERS, timeout=30)
        for name, url in urls.items()
    }
    assert [r.status_code for r in replies.values()] == [200, 200]
    assert replies["floor"].headers["content-type"] == replies["ours"].headers["content-type"]
    ours: dict[str, Any] = replies["ours"].json()
    assert replies["floor"].json() == ours
    assert ours["content"] == "This is call #42"
    assert ours["data"]["session"] == {"call_count": 42, "last_message": "hello"}


def test_the_floor_reads_the_last_user_message(urls: dict[str, str]) -> None:
    session = {"call_count": 1, "cart": ["widget"]}
    messages = [
        {"role": "user", "content": "first", "data": {"session": {"call_count": 7}}},
        {"role": "assistant", "content": "This is call #8"},
        {"role": "user", "content": "again", "data": {"session": session}},
    ]
    body = json.dumps({"messages": messages}).encode()
    reply = httpx.post(f"{urls['floor']}/api/chat", content=body, headers=HEADERS, timeout=30)
    expected = {"call_count": 2, "cart": ["widget"], "last_message": "again"}
    assert reply.json()["data"]["session"] == expected


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_posts_the_json_body(load: ModuleType, bench: ModuleType, urls: dict[str, str]) -> None:
    # dcaf serve refuses a body without Content-Type application/json (415) and one that
    # is not a chat request (422): none failing means wrk sent both right.
    run = load.wrk_load(f"{urls['ours']}/api/chat", bench.COUNTER, connections=2, seconds=1)
    assert run.client == "wrk"
    assert run.requests > 0
    assert run.failed == 0
    missing = load.wrk_load(f"{urls['ours']}/nothere", bench.COUNTER, connections=1, seconds=1)
    assert missing.failed == missing.requests > 0


def test_the_python_client_counts_answers_and_failures(
    load: ModuleType, bench: ModuleType, urls: dict[str, str]
) -> None:
    run = load.python_load(f"{urls['floor']}/api/chat", bench.COUNTER, connections=2, seconds=0.3)
    assert run.client == "python"
    assert run.requests >= 2  # each connection sends at least one
    assert run.failed == 0
    assert 0 < run.p50 <= run.p99
    missing = load.python_load(f"{urls['floor']}/nothere", b"{}", connections=1, seconds=0.3)
    assert missing.failed == missing.requests > 0


# -- the rows, from figures made up here --------------------------------------------------


def _loads(load: ModuleType, rate: float, failed: int = 0) -> list[Any]:
    """Two rounds: the first the better."""
    first = load.Load(rate, 0.001, 0.002, 1000, failed, "wrk")
    return [first, load.Load(rate / 2, 0.001, 0.003, 1000, 0, "wrk")]


def _runs(load: ModuleType, bench: ModuleType, **rates: float) -> dict[str, list[Any]]:
    keys = [run.key for run in bench.plan(["ours", "floor", "shop", "ours x2", *rates])]
    return {key: _loads(load, rates.get(key, 1000.0)) for key in keys}


def test_rows_compare_with_the_floor_and_keep_the_best_round(
    load: ModuleType, bench: ModuleType
) -> None:
    rows = {row.name: row for row in bench.rows(_runs(load, bench, ours=900, floor=1000))}
    first = rows["dcaf serve counter, 1 worker"]
    assert (first.value, first.baseline, first.verdict) == (900, 1000, "ok")  # >= 0.8x
    assert rows["p99 latency at 16 connections"].value == 0.002  # the best of the two
    assert not any("reference" in name for name in rows)  # none configured


def test_the_reference_rows_appear_when_it_was_measured(
    load: ModuleType, bench: ModuleType
) -> None:
    rows = {row.name: row for row in bench.rows(_runs(load, bench, ours=1000, reference=1000))}
    versus = rows["dcaf serve counter, vs the reference"]
    assert (versus.ratio, versus.target, versus.verdict) == (1.0, ">= 1.3x", "UNDER")


def test_a_failed_request_fails_its_row(load: ModuleType, bench: ModuleType) -> None:
    runs = _runs(load, bench)
    runs["shop"] = _loads(load, 1000, failed=3)
    rows = {row.name: row for row in bench.rows(runs)}
    shop = rows["dcaf serve shop (offline model)"]
    assert (shop.verdict, shop.error) == ("FAILED", "3 of 2000 requests failed")
    assert rows["dcaf serve counter, 1 worker"].verdict == "ok"


def test_the_reference_runs_only_when_configured(bench: ModuleType) -> None:
    assert list(bench.server_commands(None)) == ["ours", "floor", "shop", "ours x2"]
    commands = bench.server_commands("/opt/ref/bin/python")
    assert list(commands) == ["ours", "floor", "reference", "shop", "ours x2"]
    assert commands["reference"][0] == "/opt/ref/bin/python"
    assert commands["reference"][-1] == "{port}"


def test_figures_of_the_python_client_carry_no_verdict(load: ModuleType, bench: ModuleType) -> None:
    keys = [run.key for run in bench.plan(["ours", "floor", "shop", "ours x2"])]
    runs = {key: [load.Load(100.0, 0.001, 0.002, 10, 0, "python")] for key in keys}
    rows = {row.name: row for row in bench.rows(runs)}
    assert rows["dcaf serve counter, 1 worker"].verdict == "info"
    assert "bounded by the client" in rows["dcaf serve counter, 1 worker"].note
    assert rows["p99 latency at 16 connections"].verdict == "info"
    assert rows["added latency of a 100 KB session"].target == "<= 1x"  # one connection


def test_a_reference_that_is_not_there_is_one_error(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DCAF_BENCH_REFERENCE", str(tmp_path / "python"))
    with pytest.raises(RuntimeError, match="python: there is no such program"):
        bench.bench_http()
