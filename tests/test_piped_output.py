"""Output to a pipe is plain text: no trailing padding, no wrapping at 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DCAF = Path(sys.executable).with_name("dcaf")
LONG = "a very long value " * 8


def piped(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [str(DCAF), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_piped_turn_is_neither_padded_nor_wrapped(tmp_path: Path) -> None:
    out = piped("run", "shop", "-s", "s.json", "-m", "add 2 widgets", "-m", "/view_cart",
                cwd=tmp_path)  # fmt: skip
    lines = out.splitlines()
    assert lines
    assert all(line == line.rstrip() for line in lines)  # no padding
    assert "      - 2x widget" in lines
    out = piped("run", "notes", "-s", "n.json", "-m", f"/remember note {LONG.strip()}",
                cwd=tmp_path)  # fmt: skip
    assert f"  ↳ Remembered note={LONG.strip()}" in out.splitlines()  # one line, not wrapped


def test_session_show_piped_is_unpadded(tmp_path: Path) -> None:
    piped("run", "shop", "-s", "s.json", "-m", "add 2 widgets", cwd=tmp_path)
    out = piped("session", "show", "s.json", cwd=tmp_path)
    assert all(line == line.rstrip() for line in out.splitlines())
    assert "revision  1" in out.splitlines()
