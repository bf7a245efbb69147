"""Running `dcaf run` in-process (`run_cli`) without a terminal, for the scripted-mode tests."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dcaf_cli.cli import run_cli

DCAF = Path(sys.executable).with_name("dcaf")  # the installed console script
AGENTS = Path(__file__).with_name("repl_agents.py")


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout with runs of white space made one: the console wraps at 80 columns."""
        return " ".join(self.out.split())

    @property
    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


def run_dcaf(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str | Path,
    stdin: str = "",
) -> Result:
    """`dcaf ARGS` in this process, stdin a pipe (not a terminal): status, stdout, stderr."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = run_cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return Result(status, out, err)
