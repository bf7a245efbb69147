"""The offline model keeps Unicode words, takes a pasted list line by line, and the shop
example matches items whatever their case and can take them out again: as a user of
`dcaf run` meets them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run_dcaf
from repl_helpers import conversation_for, run_repl

from dcaf_cli.store.filestore import read_session_file


@pytest.fixture
def dcaf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(*args: str | Path, stdin: str = "") -> Any:
        return run_dcaf(capsys, monkeypatch, *args, stdin=stdin)

    return run


def cart(path: Path) -> Any:
    return read_session_file(path).session["cart"]


def test_unicode_words_are_kept(dcaf: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    r = dcaf("run", "shop", "-s", path, "-m", "add 3 🍕 pizzas and 2 crème brûlée")
    assert r.status == 0
    assert '▸ add_to_cart(quantity=3, item="🍕 pizza")' in r.out
    assert '▸ add_to_cart(quantity=2, item="crème brûlée")' in r.out
    assert cart(path) == [
        {"item": "🍕 pizza", "quantity": 3},
        {"item": "crème brûlée", "quantity": 2},
    ]


def test_each_pasted_line_is_its_own_request(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    conversation = conversation_for("shop", path)
    try:
        run = run_repl(conversation, ["add 2 widgets\x1b\radd 1 gadget\x1b\rwhat is in my cart"])
    finally:
        conversation.close()
    assert run.output.count("▸ add_to_cart(") == 2
    assert "▸ view_cart()" in run.output
    assert cart(path) == [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 1}]
    assert len(read_session_file(path).turns) == 1  # one turn, three calls


def test_items_match_whatever_their_case(dcaf: Any, tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_bytes((Path(__file__).parents[1] / "sessions" / "shop.json").read_bytes())
    r = dcaf("run", "shop", "-s", path, "-m", "add 2 widgets")
    assert r.status == 0
    assert "Added 2x Widget." in r.out
    assert cart(path)[0] == {"item": "Widget", "quantity": 4}
    assert len(cart(path)) == 2


def test_remove_from_cart(dcaf: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    r = dcaf("run", "shop", "-s", path, "-m", "add 3 widgets", "-m", "remove 1 widget",
             "-m", "/remove_from_cart Widget")  # fmt: skip
    assert r.status == 0
    assert "Removed 1x widget. Cart now has 2 items." in r.out
    assert "Removed 2x widget. Cart now has 0 items." in r.out
    assert cart(path) == []


def test_removing_what_is_not_there_changes_nothing(dcaf: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    r = dcaf("run", "shop", "-s", path, "-m", "add 1 gadget", "-m", "/remove_from_cart lamp")
    assert r.status == 0
    assert '✗ remove_from_cart(item="lamp")' in r.out
    assert "there is no 'lamp' in the cart" in r.out
    assert cart(path) == [{"item": "gadget", "quantity": 1}]
