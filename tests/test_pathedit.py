"""Values inside a session at a key path (`dcaf_cli.session.pathedit`), and the proof that
the REPL's `/get /set /del` and `dcaf session get/set/delete` read and change the same value
(the REPL driven through prompt-toolkit pipe input, the command through `run_cli`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import invoke
from repl_helpers import conversation_for, run_repl

from dcaf_cli.errors import UsageError
from dcaf_cli.session.pathedit import delete_at, set_at
from dcaf_cli.session.session import Session
from dcaf_cli.store.edits import create
from dcaf_cli.store.filestore import read_session_file

START: dict[str, Any] = {
    "cart": [{"item": "Widget", "quantity": 2}, {"item": "Gadget", "quantity": 1}],
    "prefs": {"a.b": {"x": 1}, "0": "zero"},
    "v1.2": "a dotted top-level key",
}


def test_set_at_changes_the_nested_value_only() -> None:
    session = Session(START)
    assert set_at(session, "cart[0].quantity", 5) == ("cart", 0, "quantity")
    assert session["cart"] == [
        {"item": "Widget", "quantity": 5},
        {"item": "Gadget", "quantity": 1},
    ]
    assert "cart[0].quantity" not in session


def test_set_at_appends_at_the_end_and_adds_new_keys() -> None:
    session = Session(START)
    set_at(session, "cart[2]", {"item": "Gizmo"})
    set_at(session, 'prefs["a.b"].y', True)
    set_at(session, "fresh", [])
    assert session["cart"][2] == {"item": "Gizmo"}
    assert session["prefs"]["a.b"] == {"x": 1, "y": True}
    assert session["fresh"] == []


def test_set_at_does_not_change_the_stored_value_in_place() -> None:
    session = Session(START)
    with session.transaction() as tx:
        set_at(session, "cart[1].quantity", 9)
        tx.rollback()
    assert session.to_dict() == START


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cart[3]", "there is no cart[3]: cart has 2 items (index 2 appends one)"),
        ("nope.x", "the session has no key 'nope'"),
        ("cart.first", "cart is a list: give an index such as cart[0], not .first"),
    ],
)
def test_set_at_refuses_a_path_that_does_not_fit(text: str, message: str) -> None:
    session = Session(START)
    with pytest.raises(UsageError) as info:
        set_at(session, text, 1)
    assert str(info.value).startswith(message)
    assert session.to_dict() == START


def test_set_at_refuses_a_value_json_cannot_hold() -> None:
    session = Session(START)
    with pytest.raises(UsageError, match=r"^session key 'cart': cart\[0\].quantity is a set"):
        set_at(session, "cart[0].quantity", {1, 2})
    assert session.to_dict() == START


def test_delete_at_removes_a_key_or_a_list_item() -> None:
    session = Session(START)
    assert delete_at(session, "cart[-1]") == ("cart", 1)
    assert delete_at(session, "prefs.0") == ("prefs", "0")
    assert delete_at(session, "v1.2") == ("v1.2",)
    assert session.to_dict() == {
        "cart": [{"item": "Widget", "quantity": 2}],
        "prefs": {"a.b": {"x": 1}},
    }
    with pytest.raises(UsageError, match=r"there is no cart\[1\]: cart has 1 item"):
        delete_at(session, "cart[1]")


# -- the REPL and `dcaf session` make the same change ----------------------------------


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of one session file: one for the REPL, one for `dcaf session`."""
    source = tmp_path / "start.json"
    source.write_text(json.dumps(START), encoding="utf-8")
    by_repl, by_cli = tmp_path / "repl.json", tmp_path / "cli.json"
    create(by_repl, source)
    create(by_cli, source)
    return by_repl, by_cli


def _repl(path: Path, entries: list[str]) -> str:
    conversation = conversation_for("notes", path)
    try:
        return run_repl(conversation, entries).output
    finally:
        conversation.close()


@pytest.mark.parametrize(
    ("slash", "command"),
    [
        ("/set cart[0].quantity 5", ["set", "cart[0].quantity", "5"]),
        ("/set cart.1.item Gizmo", ["set", "cart.1.item", "Gizmo"]),
        ('/set cart[2] {"item":"Gizmo"}', ["set", "cart[2]", '{"item":"Gizmo"}']),
        ('/set prefs["a.b"].x [1,2]', ["set", 'prefs["a.b"].x', "[1,2]"]),
        ("/del cart[0].quantity", ["delete", "cart[0].quantity"]),
        ("/del cart[-1]", ["delete", "cart[-1]"]),
        ("/del prefs.0", ["delete", "prefs.0"]),
        ("/del v1.2", ["delete", "v1.2"]),
    ],
)
def test_slash_edits_and_session_commands_make_the_same_change(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], slash: str, command: list[str]
) -> None:
    by_repl, by_cli = files
    out = _repl(by_repl, [slash])
    assert "error:" not in out
    result = invoke(capsys, "session", command[0], str(by_cli), *command[1:])
    assert result.code == 0, result.err
    in_repl, in_cli = read_session_file(by_repl), read_session_file(by_cli)
    assert in_repl.session == in_cli.session != START
    assert set(in_repl.session) <= set(START)  # no key named after the path appeared
    assert in_repl.turns[-1]["patch"] == in_cli.turns[-1]["patch"]
    assert in_repl.turns[-1]["undo"] == in_cli.turns[-1]["undo"]


def test_set_changes_the_nested_quantity_in_both(files: tuple[Path, Path]) -> None:
    by_repl, _ = files
    out = _repl(by_repl, ["/set cart[0].quantity 5", "/get cart[0].quantity"])
    assert "~ cart[0].quantity 2 → 5" in out
    assert read_session_file(by_repl).session["cart"][0] == {"item": "Widget", "quantity": 5}
    assert out.rstrip().endswith("5")


@pytest.mark.parametrize(
    "path", ["cart[0].item", "cart.1", "cart[-1].quantity", 'prefs["a.b"]', "prefs.0", "v1.2"]
)
def test_get_reads_what_session_get_reads(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], path: str
) -> None:
    by_repl, by_cli = files
    out = _repl(by_repl, [f"/get {path}"])
    result = invoke(capsys, "session", "get", str(by_cli), path)
    assert result.code == 0, result.err
    shown = out.strip().splitlines()[-1]
    assert json.loads(shown) == json.loads(result.out)


@pytest.mark.parametrize("path", ["cart[5]", "cart.first", "nope", "prefs.zz"])
def test_a_bad_path_is_the_same_one_line_error(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], path: str
) -> None:
    by_repl, by_cli = files
    out = _repl(by_repl, [f"/get {path}", f"/del {path}"])
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    for verb in ("get", "delete"):
        result = invoke(capsys, "session", verb, str(by_cli), path)
        assert result.code == 2
        message = result.err.strip().splitlines()[0].removeprefix("dcaf: error: ")
        assert errors[0 if verb == "get" else 1] == f"error: {message}"
    assert read_session_file(by_repl).session == START == read_session_file(by_cli).session
