"""How replay compares: ignored paths, loose arguments, trajectories; and the pytest plugin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcaf_cli.errors import UsageError
from dcaf_cli.testing.compare import (
    loose,
    parse_ignore,
    same_call,
    trajectory_problems,
    without,
)

REPO = Path(__file__).resolve().parent.parent


def test_ignore_patterns_drop_every_match() -> None:
    data: dict[str, Any] = {
        "cart": [{"item": "a", "added_at": 1}, {"item": "b", "added_at": 2}],
        "added_at": 3,
    }

    pruned = without(data, parse_ignore(["/cart/*/added_at"]))

    assert pruned == {"cart": [{"item": "a"}, {"item": "b"}], "added_at": 3}
    assert data["cart"][0]["added_at"] == 1  # the original is left alone


def test_ignore_patterns_match_keys_with_slashes_and_indexes() -> None:
    data: dict[str, Any] = {"a/b": {"x": 1, "y": 2}, "list": [1, 2, 3]}

    assert without(data, parse_ignore(["/a~1b/x", "/list/1"])) == {"a/b": {"y": 2}, "list": [1, 3]}
    assert without(data, parse_ignore(["/list/*"])) == {"a/b": {"x": 1, "y": 2}, "list": []}
    assert without(data, parse_ignore(["/nothere/*/x", "/list/9"])) == data


def test_ignore_reaches_deep_paths() -> None:
    deep: Any = {"v": 1, "w": 2}
    for _ in range(300):
        deep = {"n": deep}
    pattern = "/d/" + "/".join(["*"] * 300) + "/v"

    pruned: Any = without({"d": deep}, parse_ignore([pattern]))["d"]
    for _ in range(300):
        pruned = pruned["n"]
    assert pruned == {"w": 2}


def test_an_ignore_that_is_not_a_pointer_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="is not a JSON Pointer"):
        parse_ignore(["cart/*/x"])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Widget", "widget"),
        ("two  words", " two words"),
        ("2", 2),
        (2.0, 2),
        ({"a": "X"}, {"a": "x"}),
    ],
)
def test_loose_arguments_alike(a: Any, b: Any) -> None:
    assert loose(a) == loose(b)


@pytest.mark.parametrize(("a", "b"), [("Widget", "Gadget"), ("2", 3), (True, 1), ([1], [1, 1])])
def test_loose_arguments_different(a: Any, b: Any) -> None:
    assert loose(a) != loose(b)


@given(st.text(), st.integers())
def test_loose_compare_is_reflexive(text: str, number: int) -> None:
    call = {"name": "t", "input": {"s": text, "n": number}}
    assert same_call(call, dict(call), loosely=True)
    assert same_call(call, dict(call))


def test_trajectory_problems_name_each_difference() -> None:
    recorded = [
        {"name": "add", "input": {"item": "Widget"}},
        {"name": "view", "input": {}},
    ]
    actual = [{"name": "add", "input": {"item": "widget"}}]

    assert trajectory_problems(recorded, actual) == [
        'call 1: recorded add(item="Widget"), now add(item="widget")',
        "call 2: view() was recorded but not made",
    ]
    assert trajectory_problems(recorded, actual, loosely=True) == [
        "call 2: view() was recorded but not made"
    ]
    assert trajectory_problems([], actual) == [
        'call 1: add(item="widget") was not in the recording'
    ]


# -- the pytest plugin ---------------------------------------------------------------------


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pytest_collects_session_files_as_tests(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for name in ("shop.json", "deploy.json"):
        shutil.copy(REPO / "sessions" / name, sessions / name)
    broken = json.loads((REPO / "sessions" / "shop.json").read_text())
    broken["turns"][1]["patch"][0]["value"]["quantity"] = 7  # the recording says otherwise
    (sessions / "tampered.json").write_text(json.dumps(broken))

    proc = _pytest(tmp_path, "--dcaf-replay", "sessions")

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 2 passed" in proc.stdout
    assert "sessions/tampered.json: turn 2 ('and a gadget'): the session differs" in proc.stdout
    assert '  recorded patch: [{"op": "add", "path": "/cart/1"' in proc.stdout


def test_without_the_flag_the_plugin_collects_nothing(tmp_path: Path) -> None:
    shutil.copy(REPO / "sessions" / "shop.json", tmp_path / "shop.json")

    proc = _pytest(tmp_path, ".")

    assert proc.returncode == 5, proc.stdout + proc.stderr  # no tests collected
