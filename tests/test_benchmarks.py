"""The benchmark harness: rows, verdicts, discovery and the command (not the figures)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO))  # `benchmarks` lives beside the package
    return importlib.import_module("benchmarks")


@pytest.fixture
def bench_main(bench: ModuleType) -> ModuleType:
    return importlib.import_module("benchmarks.__main__")


def test_row_ratio_target_and_verdict(bench: ModuleType) -> None:
    row = bench.Row
    assert row("a", 2.0, baseline=1.0, max_ratio=2.5).verdict == "ok"
    assert row("a", 3.0, baseline=1.0, max_ratio=2.5).verdict == "OVER"
    assert row("a", 3.0, baseline=1.0, max_ratio=2.5).ratio == 3.0
    assert row("a", 3.0, baseline=1.0).verdict == "info"
    assert row("a", 3.0, baseline=0.0, max_ratio=2).verdict == "OVER"  # no usable baseline
    assert row("a", 0.004, limit=0.005).verdict == "ok"
    assert row("a", 0.004, baseline=0.001, max_ratio=10, limit=0.003).verdict == "OVER"
    assert row("a", 1e-3, baseline=1e-3, max_ratio=1.3, limit=5e-3).target == "<= 1.3x, <= 5 ms"


def test_min_ratio_is_a_floor_and_an_error_fails_the_row(bench: ModuleType) -> None:
    row = bench.Row
    assert row("a", 900, baseline=1000, min_ratio=0.8).verdict == "ok"
    assert row("a", 700, baseline=1000, min_ratio=0.8).verdict == "UNDER"
    assert row("a", 700, baseline=0, min_ratio=0.8).verdict == "UNDER"  # no usable baseline
    assert row("a", 700, baseline=1000, min_ratio=0.8).target == ">= 0.8x"
    failed = row("a", 900, baseline=1000, min_ratio=0.8, error="3 of 10 requests failed")
    assert failed.verdict == "FAILED"
    assert row("a", 900, error="broken").verdict == "FAILED"  # even without a target
    assert failed.as_json()["error"] == "3 of 10 requests failed"


def test_a_failed_row_makes_the_command_fail(
    bench: ModuleType,
    bench_main: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [bench.Row("served", 900.0, " req/s", error="3 of 10 requests failed")]
    monkeypatch.setattr(bench_main, "discover", lambda: iter([("t.served", lambda: rows)]))
    assert bench_main.main([]) == 1
    out = capsys.readouterr().out
    assert "served: FAILED: 3 of 10 requests failed" in out
    assert "1 figures, 0 off target, 1 failed" in out


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.2e-7, "s", "120 ns"),
        (2.5e-5, "s", "25 µs"),
        (0.0042, "s", "4.2 ms"),
        (3.0, "s", "3 s"),
        (1e-6, "s", "1 µs"),
        (9.996e-4, "s", "1 ms"),
        (1000, "B", "0.977 KiB"),
        (512, "B", "512 B"),
        (3 * 1024**2, "B", "3 MiB"),
        (1.5, "", "1.5"),
        (2502.4, " req/s", "2502 req/s"),
        (689.2, " req/s", "689 req/s"),
    ],
)
def test_format_value(bench: ModuleType, value: float, unit: str, text: str) -> None:
    assert bench.format_value(value, unit) == text


def test_time_statements_orders_cheap_and_costly_work(bench: ModuleType) -> None:
    times = bench.time_statements(
        {"cheap": "x + 1", "costly": "sum(range(300))"}, {"x": 1}, repeat=3, min_time=0.001
    )
    assert set(times) == {"cheap", "costly"}
    assert 0 <= times["cheap"] < times["costly"]


def test_discover_finds_the_session_benchmarks(bench_main: ModuleType) -> None:
    names = [name for name, _ in bench_main.discover()]
    assert {"session.get", "session.set", "session.has"} <= set(names)
    assert all("." in name and not name.endswith(".") for name in names)


def test_main_renders_a_table_writes_json_and_reports_failures(
    bench: ModuleType,
    bench_main: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    def fine() -> list[object]:
        return [bench.Row("fast thing", 2e-6, baseline=1e-6, baseline_name="dict", max_ratio=3)]

    def broken() -> list[object]:
        raise RuntimeError("no fixture")

    monkeypatch.setattr(bench_main, "discover", lambda: iter([("t.fine", fine), ("t.x", broken)]))
    out_file = tmp_path / "out.json"
    assert bench_main.main(["--json", str(out_file)]) == 1  # a failed benchmark
    out, err = capsys.readouterr()
    assert "benchmark t.x failed: RuntimeError('no fixture')" in err
    line = next(line for line in out.splitlines() if line.startswith("fast thing"))
    assert line.split() == [
        "fast",
        "thing",
        "2",
        "µs",
        "1",
        "µs",
        "dict",
        "2.00x",
        "<=",
        "3x",
        "ok",
    ]
    document = json.loads(out_file.read_text())
    assert document["failed"] == ["t.x"]
    assert document["rows"][0]["ratio"] == 2.0
    assert document["rows"][0]["verdict"] == "ok"

    assert bench_main.main(["fine"]) == 0
    assert bench_main.main(["nothing-matches"]) == 2


def test_strict_fails_on_a_figure_off_target(
    bench: ModuleType, bench_main: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [bench.Row("slow", 5.0, baseline=1.0, max_ratio=2)]
    monkeypatch.setattr(bench_main, "discover", lambda: iter([("t.slow", lambda: rows)]))
    assert bench_main.main([]) == 0
    assert bench_main.main(["--strict"]) == 1
    rows = [bench.Row("few", 500.0, " req/s", baseline=1000.0, min_ratio=0.8)]
    assert bench_main.main([]) == 0
    assert bench_main.main(["--strict"]) == 1


def test_command_line_entry_point_lists_benchmarks() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list", "session"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == ["session.get", "session.set", "session.has"]
