"""Command-line values: dcaf's own conversion of plain parameters, checked like Typer's,
and start-up paths that never import pydantic or compile annotations."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import invoke, make_workdir

from dcaf_cli.cli.app import app


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_workdir(tmp_path, monkeypatch) / "shop.json"


def test_a_bad_whole_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    r = invoke(capsys, "session", "show", str(shop), "--turn", "two")
    assert r.code == 2
    assert "Invalid value for '--turn' / '-t': 'two' is not a whole number" in r.err


def test_a_bad_choice_names_the_choices(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    r = invoke(capsys, "session", "export", str(shop), "--format", "pdf")
    assert r.code == 2
    assert "'pdf' is not one of 'session', 'messages', 'markdown'" in r.err


def test_plain_values_arrive_typed(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    r = invoke(capsys, "session", "show", str(shop), "--turn", " 0 ", "--json")
    assert (r.code, r.out.strip()) == (0, "{}")
    r = invoke(capsys, "session", "export", str(shop), "-f", "messages")
    assert r.code == 0
    assert r.out.startswith("[")


def test_a_folder_for_a_session_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    r = invoke(capsys, "run", "shop", "--session", str(shop.parent), "-m", "hi")
    assert r.code == 2
    # dcaf's one line, not Typer's usage block.
    assert (
        r.err
        == f"dcaf: error: {shop.parent} is not a regular file; give the path of a .json file\n"
    )


def _modules_after(*args: str) -> set[str]:
    code = (
        "import io, sys, contextlib\n"
        "from dcaf_cli.cli import run_cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = run_cli({list(args)!r})\n"
        "assert code == 0, code\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize("args", [["--help"], ["session", "show", "{shop}"], ["session", "-h"]])
def test_start_up_paths_do_not_import_pydantic(shop: Path, args: list[str]) -> None:
    modules = _modules_after(*(a.format(shop=shop) for a in args))
    assert "pydantic" not in modules
    assert "dcaf_cli.runtime.agent" not in modules


def test_command_annotations_are_evaluated_once_at_import() -> None:
    """Typer reads every command's signature at each start: string annotations (`from
    __future__ import annotations`) would be compiled again each time."""
    groups = [app, *(info.typer_instance for info in app.registered_groups)]
    callbacks = [info.callback for group in groups if group for info in group.registered_commands]
    names = {getattr(c, "__name__", "") for c in callbacks}
    assert {"run", "serve", "show", "set_", "undo"} <= names
    for callback in callbacks:
        hints = inspect.get_annotations(callback)  # type: ignore[arg-type]
        assert not any(isinstance(h, str) for h in hints.values()), callback
