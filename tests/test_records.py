"""Turn records point at their messages: a value is not copied into the record again, and
files whose records hold copies (written before) still load, show, replay, undo, export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import SHOP, invoke
from repl_helpers import conversation_for, run_repl

from dcaf_cli.store import history
from dcaf_cli.store.filestore import read_session_file
from dcaf_cli.store.records import complete_records, turn_contents
from dcaf_cli.store.sessionfile import new_session_file

MB = 1_000_000


def test_a_megabyte_value_set_by_a_tool_is_stored_seven_times_not_ten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.json"
    value = "".join(chr(ord("a") + (i * 7919) % 26) for i in range(MB))  # no secret in it
    result = invoke(capsys, "run", "notes", "--session", str(path), "-m", f"/remember big {value}")
    assert result.code == 0, result.err
    text = path.read_text("utf-8")
    # The session, the patch, the user's message and the record's input, the call's
    # input and output (`Remembered big=...`), the reply (the offline model says the
    # output). The record used to copy the call and the reply again: 10 copies, 10.0 MB.
    assert text.count(value) == 7
    assert path.stat().st_size < 7.1 * MB
    record = read_session_file(path).turns[-1]
    assert set(record).isdisjoint({"tool_calls", "reply"})
    content = turn_contents(read_session_file(path))[-1]
    assert content.tool_calls[0]["input"] == {"key": "big", "value": value}
    assert content.reply == f"Remembered big={value}"


@pytest.fixture
def older(tmp_path: Path) -> Path:
    """A file written when records held copies of their calls and reply, with one turn
    added now (which points at its messages)."""
    path = tmp_path / "shop.json"
    shutil.copy(SHOP, path)
    assert all("tool_calls" in turn for turn in json.loads(path.read_text())["turns"])
    return path


def test_an_older_file_gains_a_turn_and_reads_alike(
    older: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke(capsys, "run", "shop", "--session", str(older), "-m", "add 3 gizmos").code == 0
    raw = json.loads(older.read_text())["turns"]
    assert ["tool_calls" in t for t in raw] == [True, True, True, False]

    logged = json.loads(invoke(capsys, "session", "log", str(older), "--json").out)
    assert [(t["n"], [c["name"] for c in t["tool_calls"]]) for t in logged] == [
        (1, ["add_to_cart"]), (2, ["add_to_cart"]), (3, []), (4, ["add_to_cart"])
    ]  # fmt: skip
    assert logged[0]["reply"] == "Added 2x Widget. Cart now has 2 items."
    assert logged[3]["reply"] == "Added 3x gizmo. Cart now has 6 items."
    table = invoke(capsys, "session", "log", str(older)).out
    assert table.count("add_to_cart") == 3

    replayed = invoke(capsys, "replay", str(older))
    assert replayed.code == 0, replayed.out + replayed.err
    assert replayed.out.splitlines()[-1].startswith("3 of 3 turns match")

    markdown = invoke(capsys, "session", "export", str(older), "-f", "markdown").out
    assert '`add_to_cart(quantity=3, item="gizmo")` → `Added 3x gizmo.' in markdown
    assert invoke(capsys, "session", "show", str(older)).code == 0


def test_undo_takes_back_old_and_new_records_alike(
    older: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke(capsys, "run", "shop", "--session", str(older), "-m", "add 3 gizmos").code == 0
    for _ in range(4):
        assert invoke(capsys, "session", "undo", str(older)).code == 0
    doc = read_session_file(older)
    assert (doc.session, doc.messages, doc.turns) == ({}, [], [])


def test_clear_copies_the_calls_and_replies_into_the_records(tmp_path: Path) -> None:
    path = tmp_path / "cart.json"
    run = run_repl(conversation_for("shop", path), ["add 2 widgets", "/clear", "add 1 gadget"])
    assert "conversation cleared" in run.output
    doc = read_session_file(path)
    assert [m["content"] for m in doc.messages][-1].startswith("Added 1x gadget")
    first, second = doc.turns
    assert first["messages"] == 0
    assert first["tool_calls"][0]["input"] == {"item": "widget", "quantity": 2}
    assert first["reply"] == "Added 2x widget. Cart now has 2 items."
    assert "tool_calls" not in second
    assert [c["reply"] for c in complete_records(doc)] == [
        "Added 2x widget. Cart now has 2 items.",
        "Added 1x gadget. Cart now has 3 items.",
    ]


def test_records_whose_counts_exceed_the_messages_still_show(tmp_path: Path) -> None:
    path = tmp_path / "hand.json"
    turn = {"n": 1, "patch": [], "undo": [], "messages": 5}
    reply = {"role": "assistant", "content": "hi", "data": {"executed_tool_calls": []}}
    path.write_text(json.dumps({"dcaf_session": 1, "messages": [reply], "turns": [turn]}))
    (content,) = turn_contents(read_session_file(path))
    assert (content.start, content.stop, content.reply, content.tool_calls) == (0, 1, "hi", [])


def test_a_turn_whose_last_message_differs_keeps_even_an_empty_call_list_and_no_reply() -> None:
    doc = new_session_file()
    said = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "thinking"}]
    doc.messages.extend(said)
    record = history.record_turn(
        doc, input="hi", changes=[], tool_calls=[], reply=None, messages=said
    )
    assert (record["tool_calls"], record["reply"]) == ([], None)
    (content,) = turn_contents(doc)
    assert (content.tool_calls, content.reply) == ([], None)  # not the message's "thinking"
    assert "reply" not in history.record_turn(
        doc, input="/set a 1", changes=[], tool_calls=[], reply=None, kind="edit"
    )
