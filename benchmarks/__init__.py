"""Benchmarks: `python -m benchmarks [FILTER ...] [--json PATH] [--strict]` (or `make bench`).

Every figure is compared with a baseline measured in the same run on the same machine, so
the ratios mean something on any computer; DESIGN.md section 10 states the targets.

The contract for a benchmark module
-----------------------------------
* A module `benchmarks/bench_<topic>.py` is found automatically.
* Each of its module-level functions named `bench_<what>` takes no argument and returns an
  iterable of `Row`s. Its qualified name is `<topic>.<what>` (e.g. `session.get`); the
  command-line filters select benchmarks whose qualified name contains one of them.
* A `Row` is one figure: `value` (seconds per operation, bytes, ...: say which in `unit`),
  optionally the `baseline` it is compared with (same unit, described in `baseline_name`),
  and a target: `max_ratio` (value / baseline) and/or `limit` (an absolute value), or
  `min_ratio` for figures where more is better (requests per second). The verdict is
  computed: "ok", "OVER" (above a maximum), "UNDER" (below a minimum) or "info" (no
  target); "FAILED" when the row carries an `error` (requests that failed under load, say),
  which makes the command exit 1 like a benchmark that raised.
* Time with `time_statements` (timeit-style: a statement compiled into a loop, run for at
  least `min_time` per repeat, several repeats interleaved across the statements so load
  affects them alike, best repeat kept, empty-loop cost subtracted) or, for things timeit
  cannot loop (process start-up), with `time.perf_counter_ns` and `best_of`.
* Keep each module to a few seconds: `make bench` should finish well under a minute.
* A benchmark that raises is reported (one line on stderr) and the others still run;
  the command then exits 1.
"""

from __future__ import annotations

import statistics
import time
import timeit
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["ok", "OVER", "UNDER", "FAILED", "info"]


@dataclass(frozen=True, slots=True)
class Row:
    """One measured figure, its baseline and its target."""

    name: str
    value: float
    unit: str = "s"  # "s" (per operation), "B" (bytes), or "" (a plain number)
    baseline: float | None = None
    baseline_name: str = ""
    max_ratio: float | None = None  # the target: value <= baseline * max_ratio
    limit: float | None = None  # the target: value <= limit (same unit as value)
    note: str = ""
    min_ratio: float | None = None  # the target: value >= baseline * min_ratio
    error: str = ""  # why the figure cannot be trusted: the row fails

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.value / self.baseline

    @property
    def target(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:g}x")
        if self.max_ratio is not None:
            parts.append(f"<= {self.max_ratio:g}x")
        if self.limit is not None:
            parts.append(f"<= {format_value(self.limit, self.unit)}")
        return ", ".join(parts)

    @property
    def verdict(self) -> Verdict:
        if self.error:
            return "FAILED"
        if self.max_ratio is None and self.limit is None and self.min_ratio is None:
            return "info"
        ratio = self.ratio
        over_ratio = self.max_ratio is not None and (ratio is None or ratio > self.max_ratio)
        over_limit = self.limit is not None and self.value > self.limit
        under = self.min_ratio is not None and (ratio is None or ratio < self.min_ratio)
        return "OVER" if over_ratio or over_limit else "UNDER" if under else "ok"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "ratio": self.ratio,
            "max_ratio": self.max_ratio,
            "min_ratio": self.min_ratio,
            "limit": self.limit,
            "verdict": self.verdict,
            "note": self.note,
            "error": self.error,
        }


def format_value(value: float, unit: str) -> str:
    """`1.2e-07, "s"` -> `120 ns`; `3_500_000, "B"` -> `3.3 MiB`."""
    if unit == "s":
        for scale, name in ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms")):
            if value / scale < 999.5:  # what rounds to 1000 is shown in the next unit
                return f"{value / scale:.3g} {name}"
        return f"{value:.3g} s"
    if unit == "B":
        for scale, name in ((1, "B"), (1024, "KiB"), (1024**2, "MiB")):
            if value / scale < 999.5:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1024**3:.3g} GiB"
    if abs(value) >= 999.5:  # 2502 req/s, not 2.5e+03
        return f"{value:.0f}{unit}"
    return f"{value:.3g}{unit}"


def time_statements(
    statements: Mapping[str, str],
    namespace: Mapping[str, Any],
    *,
    setup: str = "pass",
    repeat: int = 25,
    min_time: float = 0.004,
) -> dict[str, float]:
    """Seconds per execution of each statement: best of `repeat`, empty loop subtracted.

    All statements run the same number of loops, found by `timeit`'s autorange on the
    slowest; the repeats are interleaved (a, b, a, b, ...) so a burst of load on the
    machine hits every statement, not just one, and ratios between them stay fair.
    """
    timers = {
        name: timeit.Timer(stmt, setup, timer=time.perf_counter_ns, globals=dict(namespace))
        for name, stmt in {"<empty>": "pass", **statements}.items()
    }
    number = min(_loops_for(t, min_time) for t in timers.values())  # the slowest's
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, t in timers.items():
            elapsed = t.timeit(number)
            best[name] = min(best.get(name, elapsed), elapsed)
    empty = best.pop("<empty>")
    return {name: max(ns - empty, 0) / number / 1e9 for name, ns in best.items()}


def _loops_for(timer: timeit.Timer, min_time: float) -> int:
    number = 1
    while True:
        if timer.timeit(number) / 1e9 >= min_time:
            return number
        number *= 10


def best_of(fn: Callable[[], object], *, repeat: int = 5) -> tuple[float, float]:
    """`(best, median)` seconds of `repeat` calls of `fn`, for things too slow to loop."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - start) / 1e9)
    return min(times), statistics.median(times)


__all__ = ["Row", "best_of", "format_value", "time_statements"]
