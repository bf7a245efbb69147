"""The REPL's `/sessions` and `/switch`, and the `--resume` picker, through pipe input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from repl_helpers import CTRL_D, ScriptedPrompts, buffer_console, conversation_for, run_repl
from test_library import age, write_session

from dcaf_cli.cli.chat import ChatSettings, session_source
from dcaf_cli.conversation import Conversation
from dcaf_cli.repl.app import Repl, make_prompt_session
from dcaf_cli.repl.picker import pick_session
from dcaf_cli.repl.switching import SessionSource
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.library import SessionLibrary


@pytest.fixture
def folder(sessions_dir: Path) -> Path:
    """Two sessions: `cart` (shop, the older) and `memo` (notes)."""
    sessions_dir.mkdir()
    write_session(sessions_dir / "cart.json", ["add 2 widgets"], agent="shop")
    write_session(sessions_dir / "memo.json", ["remember x"], agent="notes")
    age(sessions_dir / "cart.json", 120)
    return sessions_dir


@pytest.fixture
def source() -> Iterator[SessionSource]:
    """The CLI's own source, closing what `/switch` opened when the test ends."""
    real = session_source(ChatSettings())
    opened: list[Conversation] = []

    def open_and_keep(path: Path) -> Conversation:
        opened.append(real.open(path))
        return opened[-1]

    yield SessionSource(real.library, open_and_keep)
    for conversation in opened:
        conversation.close()


def test_sessions_lists_the_folder_and_marks_the_current_one(
    folder: Path, source: SessionSource
) -> None:
    conversation = conversation_for("shop", folder / "cart.json")
    try:
        run = run_repl(conversation, ["/sessions"], sessions=source)
    finally:
        conversation.close()
    rows = [line.split() for line in run.output.splitlines() if line.startswith(("1  ", "▸  "))]
    assert rows[0][:4] == ["1", "memo", "notes", "1"]
    assert rows[1][:4] == ["▸", "cart", "shop", "1"]  # not "(open)": it is this REPL's
    assert "remember x" in run.output
    assert "/switch NAME continues one of them" in run.output


def test_switch_saves_and_moves_to_the_other_session_with_its_agent(
    folder: Path, source: SessionSource
) -> None:
    cart, memo = folder / "cart.json", folder / "memo.json"
    conversation = conversation_for("shop", cart)
    try:
        run = run_repl(
            conversation,
            ["add 1 gadget", "/switch memo", "/remember color blue", "/switch mem"],
            sessions=source,
        )
    finally:
        conversation.close()
    text = " ".join(run.output.split())
    assert f"dcaf · notes · offline · {memo}" in text  # the banner of the new one
    assert "already in memo" in run.output
    assert [t["input"] for t in read_session_file(cart).turns] == ["add 2 widgets", "add 1 gadget"]
    assert [t["input"] for t in read_session_file(memo).turns] == [
        "remember x",
        "/remember color blue",
    ]
    assert read_session_file(memo).session["color"] == "blue"
    with SessionStore(cart) as store:  # the first session was released
        store.open()


def test_switch_refuses_what_it_cannot_open_and_stays(folder: Path, source: SessionSource) -> None:
    conversation = conversation_for("shop", folder / "cart.json")
    try:
        with SessionStore(folder / "memo.json") as held:
            held.open()
            run = run_repl(
                conversation,
                ["/switch", "/switch nope", "/switch memo", "/view_cart"],
                sessions=source,
            )
    finally:
        conversation.close()
    text = " ".join(run.output.split())
    assert "error: usage: /switch NAME (/sessions lists them)" in text
    assert "error: no session named 'nope' in " in text
    assert f"error: {folder / 'memo.json'} is open in another dcaf" in text
    assert f"saved {folder / 'cart.json'} (revision 2)" in text  # still on cart


def test_switch_from_unsaved_memory_is_refused(folder: Path, source: SessionSource) -> None:
    conversation = conversation_for("shop", None)
    try:
        run = run_repl(conversation, ["add 1 widget", "/switch memo"], sessions=source)
    finally:
        conversation.close()
    text = " ".join(run.output.split())
    assert "error: this session is in memory only; /save FILE keeps it, then /switch" in text


# -- the picker -----------------------------------------------------------------------


def pick(folder: Path, entries: list[str], agent: str | None = None) -> tuple[Path, str]:
    console, out = buffer_console()
    with create_pipe_input() as pipe:
        prompt = make_prompt_session(input=pipe, output=DummyOutput())
        ScriptedPrompts(pipe, entries).install(prompt)
        chosen = pick_session(SessionLibrary(folder), agent, prompt=prompt, console=console)
    return chosen, out.getvalue()


def test_picker_shows_the_sessions_and_takes_a_number_or_a_name(folder: Path) -> None:
    chosen, shown = pick(folder, [""])
    assert chosen == folder / "memo.json"  # Enter: the most recent
    header = shown.splitlines()[0].split()
    assert header == ["#", "name", "agent", "turns", "last", "input", "when"]
    assert "add 2 widgets" in shown
    assert "2 min ago" in shown
    assert pick(folder, ["2"])[0] == folder / "cart.json"
    chosen, shown = pick(folder, ["7", "nothing", "car"])
    assert chosen == folder / "cart.json"
    assert "error: no session named '7'" in shown
    assert "error: no session named 'nothing'" in shown


def test_picker_filters_by_agent_and_ctrl_d_cancels(folder: Path) -> None:
    chosen, shown = pick(folder, [""], agent="shop")
    assert chosen == folder / "cart.json"
    assert "memo" not in shown
    with pytest.raises(KeyboardInterrupt):
        pick(folder, [CTRL_D])


def test_switch_completes_the_names_of_saved_sessions(folder: Path, source: SessionSource) -> None:
    conversation = conversation_for("shop", folder / "cart.json")
    try:
        repl = Repl(conversation, make_prompt_session(), buffer_console()[0], sessions=source)
        completer = repl.prompt.completer
        assert completer is not None

        def complete(text: str) -> list[str]:
            return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

        assert complete("/switch ") == ["memo", "cart"]  # most recent first
        assert complete("/switch me") == ["memo"]
        assert complete("/sw") == ["/switch"]
    finally:
        conversation.close()
