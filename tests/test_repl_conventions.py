"""What users of other REPLs expect: bare `exit`, `quit` and `help`, and the small things
of wording (counts, approval boxes, rejected calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from repl_helpers import conversation_for, run_repl

from dcaf_cli.store.filestore import read_session_file


@pytest.fixture
def cart(tmp_path: Path) -> Path:
    return tmp_path / "cart.json"


def repl(agent: str, path: Path | None, entries: list[str]) -> object:
    conversation = conversation_for(agent, path)
    try:
        return run_repl(conversation, entries)
    finally:
        conversation.close()


@pytest.mark.parametrize("word", ["exit", "quit", " Quit ", "EXIT"])
def test_bare_exit_and_quit_end_the_loop_without_a_turn(cart: Path, word: str) -> None:
    run = repl("shop", cart, ["add 2 widgets", word, "add 3 gadgets"])
    assert run.unused == ["add 3 gadgets"]  # type: ignore[attr-defined]
    assert [t["input"] for t in read_session_file(cart).turns] == ["add 2 widgets"]


def test_bare_help_shows_the_commands_without_a_turn(cart: Path) -> None:
    run = repl("shop", cart, ["help"])
    assert "/approvals" in run.output  # type: ignore[attr-defined]
    assert "Ctrl-D exits" in run.output  # type: ignore[attr-defined]
    assert not cart.exists()  # no turn ran, nothing was saved


def test_words_inside_a_sentence_are_still_turns(cart: Path) -> None:
    repl("notes", cart, ["remember exit door"])
    assert read_session_file(cart).turns[0]["input"] == "remember exit door"
