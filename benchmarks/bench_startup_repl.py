"""REPL start-up: `dcaf run shop --session FILE` from spawn to its first prompt, in a pty.

The baseline, timed in the same run with the same spawning, is a bare
`python -c "import typer, rich, prompt_toolkit"` to its exit (DESIGN.md section 10: at most
1.3x). A second row compares with the same import plus pydantic, which any agent needs (its
tools' schemas and argument validation are pydantic models): the part of the gap that is
ours to shrink is the distance to that line.

Bytecode caches are allowed for the children (a warm-up run writes dcaf's), whatever
PYTHONDONTWRITEBYTECODE says here. Each repeat runs all three one after the other (so a
burst of load hits them alike); the median of the repeats is reported. A pty, because
prompt-toolkit draws only on a terminal.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

from benchmarks import Row

REPEATS = 5
PYTHON = sys.executable
DCAF = str(Path(sys.executable).with_name("dcaf"))
EXAMPLE = Path(__file__).resolve().parent.parent / "sessions" / "shop.json"
BARE = "import typer, rich, prompt_toolkit"
# `import pydantic` alone loads almost nothing (lazy attributes): take what tools use.
WITH_PYDANTIC = "import typer, rich, prompt_toolkit; from pydantic import BaseModel, TypeAdapter"


_DROPPED = ("DCAF_MODEL", "NO_COLOR", "PYTHONDONTWRITEBYTECODE")


def _env(home: Path) -> dict[str, str]:
    # Without bytecode caches every start compiles dcaf's own modules again (~80 ms) while
    # the installed typer/rich/prompt_toolkit load theirs: not what a user's second run costs.
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(DCAF_HOME=str(home), TERM="xterm-256color", COLUMNS="120", LINES="40")
    return env


def _to_prompt(session: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(
        DCAF,
        ["run", "shop", "--session", str(session)],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect("›")
        elapsed = time.perf_counter() - start
        child.sendcontrol("d")  # leave cleanly; not timed
        child.expect(pexpect.EOF)
    except pexpect.ExceptionPexpect as exc:
        raise RuntimeError(f"no prompt from dcaf run: {child.before!r}") from exc
    finally:
        child.close(force=True)
    return elapsed


def _to_exit(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(PYTHON, ["-c", code], env=env, dimensions=(40, 120), timeout=30)
    child.expect(pexpect.EOF)
    elapsed = time.perf_counter() - start
    child.close(force=True)
    if child.exitstatus != 0:
        raise RuntimeError(f"python -c {code!r} failed: {child.before!r}")
    return elapsed


def bench_to_first_prompt() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="dcaf-bench-") as folder:
        home = Path(folder)
        session = home / "shop.json"
        if EXAMPLE.exists():
            shutil.copy(EXAMPLE, session)
        env = _env(home)
        _to_prompt(session, env)  # warm the file cache: every run after this is alike
        _to_exit(WITH_PYDANTIC, env)
        repl, bare, pyd = [], [], []
        for _ in range(REPEATS):
            repl.append(_to_prompt(session, env))
            bare.append(_to_exit(BARE, env))
            pyd.append(_to_exit(WITH_PYDANTIC, env))
    value = statistics.median(repl)
    note = f"median of {REPEATS}; spawn in a pty to the prompt `›` (REPL) or to exit (imports)"
    return [
        Row("dcaf run: start to first prompt", value, "s", statistics.median(bare),
            "import typer+rich+prompt_toolkit", max_ratio=1.3, note=note),
        Row("dcaf run: start to first prompt", value, "s", statistics.median(pyd),
            "... + pydantic (agents need it)", note=note),
    ]  # fmt: skip
