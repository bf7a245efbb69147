"""Golden files for command output and for files the commands write.

`assert_golden(name, text)` compares `text`, normalised (times replaced by `<time>`,
trailing spaces dropped), with `tests/golden/<name>`. To (re)write the golden files after a
deliberate change, run the tests with `DCAF_UPDATE_GOLDEN=1` and review the diff:

    DCAF_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_cli_session.py tests/test_cli_tools.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
UPDATE_ENV = "DCAF_UPDATE_GOLDEN"
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\dZ?")


def normalise(text: str) -> str:
    """Times become `<time>`; trailing spaces (Rich pads table cells) are dropped."""
    lines = [line.rstrip() for line in _TIME.sub("<time>", text).splitlines()]
    return "\n".join(lines) + "\n"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    actual = normalise(text)
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}: run with {UPDATE_ENV}=1 to write it, then review it")
    assert actual == path.read_text(encoding="utf-8"), (
        f"output differs from {path}; if the change is intended, rerun with {UPDATE_ENV}=1"
    )
