"""Running `dcaf` in-process for tests: `dcaf_cli.cli.run_cli` with captured output."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dcaf_cli.cli import run_cli

SHOP = Path(__file__).parent / "golden" / "cli" / "shop.json"  # 3 turns; a secret, markup


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run `dcaf ARGS...`; the exit code and what it printed."""
    capsys.readouterr()  # drop anything printed before
    code = run_cli(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def make_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp folder as the current directory, holding `shop.json` (a copy of SHOP), with
    a fixed width and no colour so output can be compared with golden files."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(SHOP, folder / "shop.json")
    monkeypatch.chdir(folder)
    return folder
