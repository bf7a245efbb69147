"""Start-up: `dcaf --help` and `dcaf session show` next to a hello-world Typer app.

The baselines are `benchmarks/hello_typer.py`, the smallest Typer app doing the same: its
`--help`, and its `show FILE` printing a JSON file with Rich. Target: no slower than they
are (DESIGN.md section 10 allows 1.3x). Each is a fresh process (what a user waits for),
timed in interleaved rounds (hello, help, show, hello, ...) so a burst of load hits all of
them alike; the best round of each is kept.

The information rows explain the figures: `python -c pass` is the floor every process
pays; `import typer, rich` and `import typer, rich.console` what loading the toolkit costs
(`import rich` alone loads almost nothing); `TYPER_USE_RICH=0 dcaf --help` is the help
without Typer's Rich formatting (which imports rich.markdown, markdown-it and more);
`import typer, rich, pydantic` is what Typer 0.2x's own argument coercion costs a command
that takes an argument (the hello-world `show` pays it), which `dcaf_cli.cli.coercion`
spares dcaf's plain parameters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import Row

ROUNDS = 12
PYTHON = sys.executable
_SCRIPT = Path(sys.executable).with_name("dcaf")  # what users run; else the module
DCAF = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "dcaf_cli"]
HELLO = [PYTHON, str(Path(__file__).with_name("hello_typer.py"))]
SMALL_SESSION = {
    "dcaf_session": 1,
    "session": {"cart": [{"item": "Widget", "quantity": 2}], "prefs": {"currency": "EUR"}},
    "messages": [{"role": "user", "content": "add 2 widgets"}],
    "turns": [],
    "meta": {"revision": 1, "agent": "dcaf_cli.examples.shop", "model": "offline"},
}


Command = tuple[list[str], dict[str, str]]  # argv, and variables added to the environment


def _commands(session_file: Path) -> dict[str, Command]:
    plain_help = {"TYPER_USE_RICH": "0"}
    return {
        "python -c pass": ([PYTHON, "-c", "pass"], {}),
        "import typer, rich": ([PYTHON, "-c", "import typer, rich"], {}),
        "import typer, rich.console": ([PYTHON, "-c", "import typer, rich.console"], {}),
        "import typer, rich, pydantic": ([PYTHON, "-c", "import typer, rich, pydantic"], {}),
        "hello --help": ([*HELLO, "--help"], {}),
        "hello show": ([*HELLO, "show", str(session_file)], {}),
        "dcaf --help": ([*DCAF, "--help"], {}),
        "TYPER_USE_RICH=0 dcaf --help": ([*DCAF, "--help"], plain_help),
        "dcaf session show": ([*DCAF, "session", "show", str(session_file)], {}),
    }


def _run(command: Command, env: dict[str, str]) -> float:
    argv, extra = command
    start = time.perf_counter_ns()
    subprocess.run(argv, env={**env, **extra}, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - start) / 1e9


def measure(rounds: int = ROUNDS) -> dict[str, float]:
    """Best wall-clock seconds of each command over `rounds` interleaved rounds."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as folder:
        session_file = Path(folder) / "small.json"
        session_file.write_text(json.dumps(SMALL_SESSION, indent=2))
        commands = _commands(session_file)
        for command in commands.values():  # warm the file cache and the bytecode
            _run(command, env)
        best = {name: float("inf") for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                best[name] = min(best[name], _run(command, env))
    return best


def bench_cli() -> list[Row]:
    t = measure()
    note = "fresh processes, best of interleaved rounds"
    base, base_name = t["import typer, rich"], "import typer, rich"
    return [
        Row("dcaf --help", t["dcaf --help"], "s", t["hello --help"],
            "hello-world Typer app --help", max_ratio=1.0, note=note),
        Row("dcaf session show (small file)", t["dcaf session show"], "s", t["hello show"],
            "hello-world Typer+Rich show", max_ratio=1.0, note=note),
        *(Row(name, t[name], "s", base, base_name, note="see the module docstring")
          for name in ("python -c pass", "import typer, rich.console", "hello --help",
                       "hello show", "TYPER_USE_RICH=0 dcaf --help",
                       "import typer, rich, pydantic")),
    ]  # fmt: skip
