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


def test_counts_are_singular_for_one(cart: Path) -> None:
    from prompt_toolkit.formatted_text import to_plain_text
    from repl_helpers import buffer_console

    from dcaf_cli.repl.app import Repl, make_prompt_session

    repl("notes", cart, ["/remember a 1"])
    conversation = conversation_for("notes", cart)
    try:
        console, out = buffer_console()
        shown = Repl(conversation, make_prompt_session(), console)
        shown.greet()
        assert "1 key · 1 turn ·" in out.getvalue()
        assert " · 1 turn · " in to_plain_text(shown.toolbar())
    finally:
        conversation.close()


def test_the_approval_box_says_what_the_tool_does(cart: Path) -> None:
    run = repl("deploy", cart, ["start a deployment to staging", "/execute_deployment", "n", ""])
    assert "what Execute the deployment" in run.output  # type: ignore[attr-defined]
    assert "does Execute" not in run.output  # type: ignore[attr-defined]
    assert "⊘ execute_deployment()  not run" in run.output  # type: ignore[attr-defined]


def test_log_takes_a_number_of_turns(cart: Path) -> None:
    run = repl(
        "notes", cart, ["/remember a 1", "/remember b 2", "/remember c 3", "/log 2", "/log x"]
    )
    log = run.output.rsplit("saved", 1)[1]  # type: ignore[attr-defined]  # after the last turn
    assert "remember b 2" in log
    assert "remember c 3" in log
    assert "remember a 1" not in log
    assert "usage: /log [N]" in log


def test_log_and_undo_take_one_turn_or_more(cart: Path) -> None:
    run = repl("notes", cart, ["/remember a 1", "/log 0", "/undo 0", "/log ²"])
    out = run.output.rsplit("saved", 1)[1]  # type: ignore[attr-defined]  # after the turn
    assert "usage: /log [N], where N is a number of turns, 1 or more (got '0')" in out
    assert "usage: /undo [N], where N is a number of turns, 1 or more (got '0')" in out
    assert "(got '²')" in out
    assert "no turns yet" not in out
    assert "undid" not in out


def test_completion_menus_say_what_each_entry_is() -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document
    from repl_helpers import buffer_console

    from dcaf_cli.repl.app import Repl, make_prompt_session

    conversation = conversation_for("shop", None)
    shown = Repl(conversation, make_prompt_session(), buffer_console()[0])
    completer = shown.prompt.completer
    assert completer is not None

    def menu(text: str) -> dict[str, str]:
        found = completer.get_completions(Document(text), CompleteEvent())
        return {c.text: c.display_meta_text for c in found}

    assert menu("/app") == {"/approvals": "standing approvals; revoke them"}
    assert menu("/add_to") == {"/add_to_cart": "Add item to shopping cart"}
    assert menu("/remove_from_cart q") == {"quantity=": "integer, optional"}
    assert menu("/add_to_cart it") == {"item=": "string"}


def test_a_wrong_agent_or_model_name_suggests_the_right_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chat_helpers import run_dcaf

    r = run_dcaf(capsys, monkeypatch, "run", "shopp", "-m", "hi")
    assert r.status == 2
    assert "did you mean shop? built-ins: notes, shop, deploy, counter" in r.err
    r = run_dcaf(capsys, monkeypatch, "run", "shop", "--model", "gpt-4o", "-m", "hi")
    assert r.status == 2
    assert "did you mean openai:gpt-4o?" in r.err


def test_serve_logs_requests_but_not_uvicorns_start_up() -> None:
    from dcaf_cli.server.entry import quiet_logging

    config = quiet_logging("info")
    assert config["loggers"]["uvicorn.error"]["level"] == "WARNING"  # no second Ctrl-C hint
    assert config["loggers"]["uvicorn.access"]["level"] == "INFO"
