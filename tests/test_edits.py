"""Hand edits of session files (`dcaf_cli.store.edits`): recorded turns, undo, the writer lock."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import SHOP

from dcaf_cli.errors import SessionFileError, SessionLockedError, UsageError
from dcaf_cli.store import edits
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.history import session_at_turn


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    shutil.copy(SHOP, path)
    return path


def unchanged_after(path: Path, error: type[Exception], action: Callable[[], object]) -> str:
    """Run `action`, which must raise `error`, and check `path` did not change."""
    before = path.read_bytes()
    with pytest.raises(error) as info:
        action()
    assert path.read_bytes() == before
    return str(info.value)


def test_set_records_an_edit_turn_with_patch_and_undo(shop: Path) -> None:
    outcome = edits.set_value(shop, "cart[0].quantity", 5)
    doc = read_session_file(shop)
    turn = doc.turns[-1]
    assert (outcome.turn, outcome.revision) == (4, 4)
    assert turn["kind"] == "edit"
    assert turn["input"] == "session set cart[0].quantity 5"
    assert turn["patch"] == [{"op": "replace", "path": "/cart/0/quantity", "value": 5}]
    assert turn["undo"] == [{"op": "replace", "path": "/cart/0/quantity", "value": 2}]
    assert turn["messages"] == 0
    assert len(doc.messages) == 4
    assert session_at_turn(doc, 3)["cart"][0]["quantity"] == 2


def test_set_adds_keys_and_appends_to_lists(shop: Path) -> None:
    edits.set_value(shop, "profile.city", "Oslo")
    edits.set_value(shop, "cart.2", {"item": "Gizmo", "quantity": 1})
    session = read_session_file(shop).session
    assert session["profile"]["city"] == "Oslo"
    assert session["cart"][2] == {"item": "Gizmo", "quantity": 1}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("prefs.lang", "the session has no key 'prefs'"),
        ("cart[9]", "there is no cart[9]: cart has 2 items (index 2 appends one)"),
        ("cart[-5]", "there is no cart[-5]: cart has 2 items"),
        ("cart.item", "cart is a list: give an index"),
        ("cart[0].item.x", "cart[0].item is a string, so it has no .x"),
    ],
)
def test_set_needs_the_parent_to_exist(shop: Path, key: str, message: str) -> None:
    error = unchanged_after(shop, UsageError, lambda: edits.set_value(shop, key, 1))
    assert error.startswith(message)


def test_set_refuses_values_json_cannot_hold(shop: Path) -> None:
    error = unchanged_after(shop, UsageError, lambda: edits.set_value(shop, "x", float("nan")))
    assert "NaN" in error


def test_set_keeps_secrets_out_of_the_recorded_input(shop: Path) -> None:
    outcome = edits.set_value(shop, "token", "ghp_" + "a" * 36)
    assert outcome.secrets == ["token"]
    assert read_session_file(shop).turns[-1]["input"] == 'session set token "‹redacted›"'


def test_set_of_an_equal_value_records_nothing(shop: Path) -> None:
    before = shop.read_bytes()
    outcome = edits.set_value(shop, "cart[1]", {"item": "Gadget", "quantity": 1})
    assert (outcome.changes, outcome.revision, outcome.turn) == ([], None, None)
    assert shop.read_bytes() == before


def test_delete_and_clear_record_turns_that_undo_restores(shop: Path) -> None:
    original = read_session_file(shop).session
    edits.delete_value(shop, "profile.tags[0]")
    assert read_session_file(shop).session["profile"]["tags"] == []
    cleared = edits.clear_session(shop)
    assert [c.kind for c in cleared.changes] == ["removed", "removed"]
    assert read_session_file(shop).session == {}
    undone = edits.undo(shop, 2)
    assert undone.undone == [4, 5]
    assert read_session_file(shop).session == original


def test_delete_of_a_missing_key_changes_nothing(shop: Path) -> None:
    unchanged_after(shop, UsageError, lambda: edits.delete_value(shop, "cart[2]"))


def test_undo_removes_chat_turns_with_their_messages(shop: Path) -> None:
    edits.undo(shop, 2)  # the edit of turn 3 and the chat turn 2 (two messages)
    doc = read_session_file(shop)
    assert [t["n"] for t in doc.turns] == [1]
    assert len(doc.messages) == 2
    assert doc.session == {"cart": [{"item": "Widget", "quantity": 2}]}
    error = unchanged_after(shop, UsageError, lambda: edits.undo(shop, 2))
    assert "only 1 turn" in error


def test_an_edit_of_a_bare_file_writes_the_full_format(tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    path.write_text('{"n": 1}')
    outcome = edits.set_value(path, "n", 2)
    assert outcome.notice is not None
    assert "bare session data" in outcome.notice
    document = json.loads(path.read_text())
    assert document["dcaf_session"] == 1
    assert document["session"] == {"n": 2}
    assert document["turns"][0]["undo"] == [{"op": "replace", "path": "/n", "value": 1}]


def test_edits_refuse_a_file_another_writer_holds(shop: Path) -> None:
    with SessionStore(shop) as store:
        store.open()
        error = unchanged_after(shop, SessionLockedError, lambda: edits.set_value(shop, "x", 1))
        unchanged_after(shop, SessionLockedError, lambda: edits.undo(shop))
    assert "is open in another dcaf" in error
    edits.set_value(shop, "x", 1)  # released: now it works


def test_edits_never_create_a_file(tmp_path: Path) -> None:
    with pytest.raises(SessionFileError, match="does not exist"):
        edits.set_value(tmp_path / "no" / "x.json", "a", 1)
    assert not (tmp_path / "no").exists()


def test_create_from_bare_or_full_files_and_never_over_one(shop: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "fresh.json"
    outcome = edits.create(fresh, shop)
    doc = read_session_file(fresh)
    assert outcome.revision == 1
    assert doc.session == read_session_file(shop).session
    assert doc.turns == []
    assert doc.messages == []
    unchanged_after(fresh, UsageError, lambda: edits.create(fresh, None))
    assert (fresh.stat().st_mode & 0o777) == 0o600
