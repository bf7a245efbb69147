"""Run the benchmarks: `python -m benchmarks [FILTER ...] [--json PATH] [--strict] [--list]`.

See `benchmarks/__init__.py` for what a benchmark module provides.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import benchmarks
from benchmarks import Row, format_value

Bench = Callable[[], Iterable[Row]]


def discover() -> Iterator[tuple[str, Bench]]:
    """`(topic.what, function)` for every `bench_*` function of every `bench_*` module."""
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        topic = info.name.removeprefix("bench_")
        for attr, fn in vars(module).items():
            if attr.startswith("bench_") and callable(fn) and fn.__module__ == module.__name__:
                yield f"{topic}.{attr.removeprefix('bench_')}", fn


def render(rows: list[Row]) -> str:
    """A plain-text table, one line per row."""
    header = ("benchmark", "value", "baseline", "vs", "ratio", "target", "verdict")
    lines = [header]
    for r in rows:
        baseline = format_value(r.baseline, r.unit) if r.baseline is not None else ""
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        value = format_value(r.value, r.unit)
        lines.append((r.name, value, baseline, r.baseline_name, ratio, r.target, r.verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {1, 2, 4}  # numbers line up on the right
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.name}: {r.note}" for r in rows if r.note]
    notes += [f"  {r.name}: FAILED: {r.error}" for r in rows if r.error]
    if notes:
        out += ["", "notes:", *dict.fromkeys(notes)]
    return "\n".join(out)


def environment() -> dict[str, str | int | None]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("filters", nargs="*", help="run benchmarks whose name contains one")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a figure is off target")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)

    selected = [
        (name, fn)
        for name, fn in discover()
        if not args.filters or any(f in name for f in args.filters)
    ]
    if args.list:
        print("\n".join(name for name, _ in selected))
        return 0
    if not selected:
        print(f"no benchmark matches {' '.join(args.filters)!r}", file=sys.stderr)
        return 2

    env = environment()
    print(f"Python {env['python']} on {env['platform']}, {env['cpus']} CPUs", flush=True)
    rows: list[Row] = []
    errors: list[str] = []
    started = time.perf_counter()
    for name, fn in selected:
        try:
            rows += list(fn())
        except Exception as exc:  # one broken benchmark must not hide the others
            errors.append(name)
            print(f"benchmark {name} failed: {exc!r}", file=sys.stderr)
            if os.environ.get("BENCH_DEBUG"):
                traceback.print_exc()
    print(render(rows))
    over = [r for r in rows if r.verdict in ("OVER", "UNDER")]
    errors += [r.name for r in rows if r.verdict == "FAILED"]
    print(f"\n{len(rows)} figures, {len(over)} off target, {len(errors)} failed, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    if args.json:
        document = {"environment": env, "rows": [r.as_json() for r in rows], "failed": errors}
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    if errors or (args.strict and over):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
