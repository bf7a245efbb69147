"""`dcaf session`: show, log, diff, get, export, validate and the editing commands.

Output is compared with golden files under `tests/golden/cli/` at a fixed width (COLUMNS=100,
NO_COLOR=1), times normalised. After a deliberate change to what a command prints or
writes, regenerate them and review the diff:

    DCAF_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_cli_session.py tests/test_cli_tools.py

Commands run in-process through `dcaf_cli.cli.run_cli` (fast); a few run the installed
`dcaf` in a subprocess. Bad files (missing, corrupt, locked, future) are in
`test_cli_session_errors.py`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import SHOP, Result, invoke, make_workdir
from golden_helpers import assert_golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcaf_cli.cli import session_edit_cmds

DCAF = Path(sys.executable).with_name("dcaf")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_workdir(tmp_path, monkeypatch)


def ok(result: Result) -> str:
    assert (result.code, result.err) == (0, ""), result
    return result.out


# -- show -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("show", []),
        ("show_key", ["--key", "cart[1]"]),
        ("show_key_dotted", ["--key", "profile.tags.0"]),
        ("show_turn", ["--turn", "1"]),
        ("show_reveal", ["--reveal", "-k", "profile"]),
    ],
)
def test_show_golden(
    capsys: pytest.CaptureFixture[str], work: Path, name: str, args: list[str]
) -> None:
    assert_golden(f"cli/{name}.txt", ok(invoke(capsys, "session", "show", "shop.json", *args)))


def test_show_redacts_secrets_and_prints_markup_and_escapes_literally(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    out = ok(invoke(capsys, "session", "show", "shop.json"))
    assert "sk-abc" not in out
    assert "‹redacted›" in out
    assert "[bold red]Ann[/]" in out
    assert "\x1b" not in out


def test_show_json_is_exactly_the_data(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    data = json.loads(SHOP.read_text())["session"]
    assert json.loads(ok(invoke(capsys, "session", "show", "shop.json", "--json"))) == data
    out = ok(invoke(capsys, "session", "show", "shop.json", "--json", "-k", "profile.api_key"))
    assert json.loads(out) == data["profile"]["api_key"]  # exact: --json is for scripts


def test_show_json_at_a_turn_rebuilds_the_session(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    out = ok(invoke(capsys, "session", "show", "shop.json", "--json", "--turn", "0"))
    assert json.loads(out) == {}
    out = ok(invoke(capsys, "session", "show", "shop.json", "--json", "--turn", "1"))
    assert json.loads(out) == {"cart": [{"item": "Widget", "quantity": 2}]}


def test_show_reads_a_bare_session_object(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    Path("bare.json").write_text('{"n": 1}')
    out = invoke(capsys, "session", "show", "bare.json").out
    assert "n: 1" in out
    assert Path("bare.json").read_text() == '{"n": 1}'  # reading never rewrites


BARE_NOTE = (
    "dcaf: note: bare.json holds bare session data, not the dcaf format; saving it writes "
    "the full format (session, messages, turns, meta)\n"
)


@pytest.mark.parametrize(
    "args",
    [
        ["session", "show", "bare.json"],
        ["session", "validate", "bare.json"],
        ["session", "set", "bare.json", "m", "2"],
        ["session", "delete", "bare.json", "n"],
        ["run", "shop", "--session", "bare.json", "-m", "/view_cart"],
    ],
)
def test_a_bare_file_is_noted_once_in_the_same_words_everywhere(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    Path("bare.json").write_text('{"n": 1}')
    result = invoke(capsys, *args)
    assert result.code == 0, result
    assert result.err == BARE_NOTE
    assert "bare session data" not in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "cart[5]"], "there is no cart[5]: cart has 2 items"),
        (["--key", "nope"], "the session has no key 'nope' (its keys: cart, profile)"),
        (["--turn", "7"], "there is no turn 7: the file has turns 1 to 3"),
        (["--key", "cart..x"], "cannot read the path 'cart..x' at character 6"),
    ],
)
def test_show_explains_what_is_not_there(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str], message: str
) -> None:
    result = invoke(capsys, "session", "show", "shop.json", *args)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(f"dcaf: error: {message}")
    assert result.err.count("\n") == 1


# -- log, diff, get -----------------------------------------------------------------------


def test_log_golden(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    assert_golden("cli/log.txt", ok(invoke(capsys, "session", "log", "shop.json")))


def test_log_json_is_the_turn_records(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    out = ok(invoke(capsys, "session", "log", "shop.json", "--json"))
    assert json.loads(out) == json.loads(SHOP.read_text())["turns"]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("diff_last_turn", ["shop.json"]),
        ("diff_since_turn", ["shop.json", "--turn", "1"]),
        ("diff_files", ["before.json", "shop.json"]),
    ],
)
def test_diff_golden(
    capsys: pytest.CaptureFixture[str], work: Path, name: str, args: list[str]
) -> None:
    Path("before.json").write_text('{"cart": [{"item": "Widget", "quantity": 1}], "old": true}')
    assert_golden(f"cli/{name}.txt", ok(invoke(capsys, "session", "diff", *args)))


def test_diff_json_is_a_patch_from_a_to_b(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    import jsonpatch

    Path("before.json").write_text('{"cart": [], "old": true}')
    patch = json.loads(ok(invoke(capsys, "session", "diff", "before.json", "shop.json", "--json")))
    after = json.loads(SHOP.read_text())["session"]
    assert jsonpatch.apply_patch({"cart": [], "old": True}, patch) == after


_KEYS = st.text(alphabet="ab/~0 é", max_size=3)  # "/" and "~" need escaping in pointers
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
_SESSIONS = st.dictionaries(_KEYS, _JSON, max_size=5)


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two sessions: unrelated, or the second an edit of the first (lists that grow or
    shrink in the middle, changed keys), where a diff has to be careful."""
    a = draw(_SESSIONS)
    if draw(st.booleans()):
        return a, draw(_SESSIONS)
    b = json.loads(json.dumps(a))
    for key in draw(st.lists(st.sampled_from(sorted(b)), max_size=3)) if b else []:
        if isinstance(b[key], list) and b[key]:
            b[key].insert(draw(st.integers(0, len(b[key]))), draw(_JSON))
            b[key].pop(draw(st.integers(0, len(b[key]) - 1)))
        else:
            b[key] = draw(_JSON)
    b.update(draw(st.dictionaries(_KEYS, _JSON, max_size=2)))
    return a, b


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pair=_pairs())
def test_diff_json_applied_with_jsonpatch_gives_b(
    capsys: pytest.CaptureFixture[str], work: Path, pair: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    import jsonpatch

    a, b = pair
    Path("a.json").write_text(json.dumps(a))
    Path("b.json").write_text(json.dumps(b))
    patch = json.loads(ok(invoke(capsys, "session", "diff", "a.json", "b.json", "--json")))
    result = jsonpatch.apply_patch(a, patch)
    # Compared as JSON text: `==` would take 1 for 1.0 and True, and 0.0 for -0.0.
    assert json.dumps(result, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_diff_refuses_a_second_file_and_a_turn(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    result = invoke(capsys, "session", "diff", "shop.json", "shop.json", "--turn", "1")
    assert result.code == 2
    assert "not both" in result.err


def test_get_prints_exact_json(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    assert json.loads(ok(invoke(capsys, "session", "get", "shop.json", "cart.1.item"))) == "Gadget"
    out = ok(invoke(capsys, "session", "get", "shop.json", "profile"))
    assert json.loads(out)["api_key"].startswith("sk-")


# -- export, validate ---------------------------------------------------------------------


def test_export_formats(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    document = json.loads(SHOP.read_text())
    session = ok(invoke(capsys, "session", "export", "shop.json"))
    assert json.loads(session) == document["session"]
    messages = ok(invoke(capsys, "session", "export", "shop.json", "--format", "messages"))
    assert json.loads(messages) == document["messages"]
    markdown = ok(invoke(capsys, "session", "export", "shop.json", "-f", "markdown"))
    assert_golden("cli/export.md", markdown)
    assert "sk-abc" not in markdown
    revealed = ok(invoke(capsys, "session", "export", "shop.json", "-f", "markdown", "--reveal"))
    assert "sk-abcdefghijklmnopqrstuvwxyz" in revealed


def test_export_session_feeds_new_from(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    Path("data.json").write_text(ok(invoke(capsys, "session", "export", "shop.json")))
    ok(invoke(capsys, "session", "new", "copy.json", "--from", "data.json"))
    out = ok(invoke(capsys, "session", "show", "copy.json", "--json"))
    assert json.loads(out) == json.loads(SHOP.read_text())["session"]


def test_validate_exit_codes(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    Path("clean.json").write_text('{"cart": []}')
    clean = invoke(capsys, "session", "validate", "clean.json")
    assert clean.code == 0
    assert "clean.json: valid" in clean.out
    assert clean.err.startswith("dcaf: note: clean.json holds bare session data")
    warned = invoke(capsys, "session", "validate", "shop.json")
    assert warned.code == 1, warned
    assert "warning: session: profile.api_key looks like a secret" in warned.out
    document = json.loads(SHOP.read_text())
    document["turns"][0]["undo"] = [{"op": "remove", "path": "/nowhere"}]
    document["messages"][0]["role"] = "robot"
    Path("broken.json").write_text(json.dumps(document))
    broken = invoke(capsys, "session", "validate", "broken.json")
    assert broken.code == 2, broken
    assert "invalid, 2 problems" in broken.out
    Path("dup.json").write_text('{"a": 1, "a": 2}')
    assert invoke(capsys, "session", "validate", "dup.json").code == 1


# -- editing commands: the file after each, as a golden file ------------------------------


def saved_file(path: str = "shop.json") -> str:
    return Path(path).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("set", ["set", "shop.json", "cart[0].quantity", "5"]),
        ("set_append", ["set", "shop.json", "cart.2", '{"item": "Gizmo", "quantity": 1}']),
        ("set_text", ["set", "shop.json", "note", "hello world"]),
        ("delete", ["delete", "shop.json", "profile.api_key"]),
        ("clear", ["clear", "shop.json", "--yes"]),
        ("undo", ["undo", "shop.json", "--turns", "2"]),
    ],
)
def test_edit_golden(
    capsys: pytest.CaptureFixture[str], work: Path, name: str, args: list[str]
) -> None:
    result = invoke(capsys, "session", *args)
    assert_golden(f"cli/{name}.txt", ok(result))
    assert_golden(f"cli/{name}.json", saved_file())
    assert sorted(os.listdir()) == ["shop.json"]  # no temp or lock file left behind


def test_new_golden_and_never_overwrites(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    Path("bare.json").write_text('{"cart": [{"item": "Widget", "quantity": 2}]}')
    created = invoke(capsys, "session", "new", "fresh.json", "--from", "bare.json")
    assert_golden("cli/new.txt", ok(created))
    assert_golden("cli/new.json", saved_file("fresh.json"))
    before = saved_file("fresh.json")
    again = invoke(capsys, "session", "new", "fresh.json")
    assert again.code == 2
    assert "already exists" in again.err
    assert saved_file("fresh.json") == before
    assert ok(invoke(capsys, "session", "new", "sub/empty.json"))
    assert json.loads(saved_file("sub/empty.json"))["session"] == {}


def test_edits_show_in_the_log_and_undo_restores_the_file_data(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    before = json.loads(saved_file())
    ok(invoke(capsys, "session", "set", "shop.json", "cart[0].quantity", "9"))
    ok(invoke(capsys, "session", "delete", "shop.json", "cart[1]"))
    log = ok(invoke(capsys, "session", "log", "shop.json"))
    assert "session set cart[0].quantity 9" in log
    assert "session delete cart[1]" in log
    ok(invoke(capsys, "session", "undo", "shop.json", "-n", "2"))
    after = json.loads(saved_file())
    assert (after["session"], after["turns"]) == (before["session"], before["turns"])
    assert after["meta"]["revision"] == before["meta"]["revision"] + 3


def test_set_the_same_value_saves_nothing(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    before = saved_file()
    out = ok(invoke(capsys, "session", "set", "shop.json", "cart[0].item", "Widget"))
    assert "nothing changed" in out
    assert saved_file() == before


def test_set_refuses_what_json_cannot_hold(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    before = saved_file()
    result = invoke(capsys, "session", "set", "shop.json", "x", "NaN")
    assert result.code == 2
    assert "NaN" in result.err
    assert saved_file() == before
    result = invoke(capsys, "session", "set", "shop.json", "cart[7]", "1")
    assert result.code == 2
    assert "index 2 appends one" in result.err
    assert saved_file() == before


def test_clear_asks_on_a_terminal(
    capsys: pytest.CaptureFixture[str], work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_edit_cmds, "stdin_is_terminal", lambda: True)
    before = saved_file()
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    kept = invoke(capsys, "session", "clear", "shop.json")
    assert kept.code == 0
    assert "Remove all 2 keys" in kept.err
    assert saved_file() == before
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    ok_ = invoke(capsys, "session", "clear", "shop.json")
    assert ok_.code == 0
    assert json.loads(saved_file())["session"] == {}


def test_clear_without_a_terminal_needs_yes(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    before = saved_file()
    result = invoke(capsys, "session", "clear", "shop.json")
    assert result.code == 2
    assert "add --yes" in result.err
    assert result.err.count("\n") == 1
    assert saved_file() == before


# -- the installed program ------------------------------------------------------------------


def test_installed_show_imports_no_agent_and_no_provider(work: Path) -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(
        [DCAF, "session", "show", "shop.json"], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0
    assert "Widget" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    forbidden = {
        "dcaf_cli.runtime.agent", "dcaf_cli.runtime.loader", "dcaf_cli.tools.tool",
        "dcaf_cli.models", "dcaf_cli.session.session", "openai", "anthropic", "boto3", "httpx",
        "prompt_toolkit", "fastapi", "uvicorn",
    }  # fmt: skip
    assert "dcaf_cli.store.filestore" in imported
    assert not imported & forbidden


def test_installed_diff_json_pipes_into_jsonpatch(work: Path) -> None:
    import jsonpatch

    Path("a.json").write_text('{"cart": [{"item": "Widget", "quantity": 2}], "k/~": 1}')
    proc = subprocess.run(
        [DCAF, "session", "diff", "a.json", "shop.json", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    a = json.loads(Path("a.json").read_text())
    assert jsonpatch.apply_patch(a, json.loads(proc.stdout)) == json.loads(saved_file())["session"]


def test_markdown_export_shows_control_characters_instead_of_sending_them(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    document = json.loads(SHOP.read_text())
    document["messages"][0]["content"] = "clear the screen \x1b[2J\x9b please"
    Path("esc.json").write_text(json.dumps(document))
    out = ok(invoke(capsys, "session", "export", "esc.json", "--format", "markdown"))
    assert "clear the screen \\x1b[2J\\x9b please" in out
    assert "\x1b" not in out
    assert "\x9b" not in out


def test_an_empty_file_is_noted_as_read_not_as_started(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    """`session show` only reads: the note says how the file was read and what saving it
    would do, in the words of the bare-file note."""
    Path("empty.json").write_text("")
    result = invoke(capsys, "session", "show", "empty.json")
    assert result.code == 0, result
    assert result.err == (
        "dcaf: note: empty.json is empty, read as an empty session; saving it writes "
        "the full format (session, messages, turns, meta)\n"
    )
    assert Path("empty.json").read_text() == ""
