"""Conversation: turns saved after each one, all or nothing; edits, undo, save-as, reload."""

from __future__ import annotations

import asyncio
import copy
import errno
import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from repl_agents import failing, secrets

import dcaf_cli.conversation.service as conversation_module
import dcaf_cli.store.filestore as store_module
from dcaf_cli.conversation import Conversation
from dcaf_cli.errors import SessionFileError, SessionLockedError
from dcaf_cli.models.script import ScriptModel
from dcaf_cli.runtime.agent import Agent, FunctionAgent
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.runtime.results import AgentResult, Decision, PendingToolCall
from dcaf_cli.runtime.runner import run_sync
from dcaf_cli.session.redact import MASK
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.records import turn_contents


async def approve_all(pending: list[PendingToolCall]) -> list[Decision]:
    return [Decision(p.id, True) for p in pending]


def open_conv(path: Path | None, agent: Any = "shop") -> Conversation:
    store = SessionStore(path) if path is not None else None
    doc = store.open() if store is not None else store_module.new_session_file()
    return Conversation(load_agent(agent) if isinstance(agent, str) else agent, doc, store)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "s.json"


@pytest.fixture
def conv(path: Path) -> Any:
    conversation = open_conv(path)
    yield conversation
    conversation.close()


def send(conversation: Conversation, text: str) -> Any:
    return run_sync(conversation.send(text, approve_all))


def test_send_saves_each_turn_and_reports_it(conv: Conversation, path: Path) -> None:
    report = send(conv, "add 2 widgets")
    assert report.ok
    assert report.revision == 1
    assert report.turn == 1
    assert [(c.name, c.input) for c in report.executed] == [
        ("add_to_cart", {"quantity": 2, "item": "widget"})
    ]
    assert report.text == "Added 2x widget. Cart now has 2 items."
    doc = read_session_file(path)
    assert doc.session == {"cart": [{"item": "widget", "quantity": 2}]}
    assert doc.revision == 1
    assert conv.revision == 1
    assert conv.turns == 1
    assert not conv.unsaved


def test_to_json_diff_is_an_rfc6902_patch_from_before_to_after(conv: Conversation) -> None:
    states = [conv.session.to_dict()]
    for text in ("add 2 widgets", "add 3 gadgets", "/clear_cart", "/set_nothing"):
        report = send(conv, text)
        line = report.to_json()
        assert set(line) == {"input", "reply", "tool_calls", "diff", "revision", "turn", "error"}
        json.dumps(line)  # JSON all the way down
        after = jsonpatch.apply_patch(states[-1], line["diff"])
        assert after == conv.session.to_dict()
        states.append(copy.deepcopy(after))
    assert states[2] == {
        "cart": [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 3}]
    }
    assert states[3] == {}


def test_to_json_masks_secrets_unless_revealed(tmp_path: Path) -> None:
    conversation = open_conv(tmp_path / "k.json", secrets)
    try:
        report = send(conversation, "/store_key")
    finally:
        conversation.close()
    assert report.secrets == ["api_key"]
    masked = report.to_json()
    assert masked["diff"] == [{"op": "add", "path": "/api_key", "value": MASK}]
    assert "sk-live" not in json.dumps(masked)
    shown = report.to_json(reveal=True)
    assert shown["diff"][0]["value"] == "sk-live-0123456789abcdefghijklmnop"
    # The file keeps the real value: redaction is for views only.
    assert read_session_file(tmp_path / "k.json").session["api_key"].startswith("sk-live-")


def test_a_failing_tool_is_a_result_and_leaves_no_trace(tmp_path: Path) -> None:
    conversation = open_conv(tmp_path / "f.json", failing)
    try:
        report = send(conversation, "/explode")
    finally:
        conversation.close()
    assert report.ok  # the error went back to the model as the tool's result
    assert report.executed[0].error == "RuntimeError: the tool blew up"
    assert report.changes == []
    doc = read_session_file(tmp_path / "f.json")
    assert doc.session == {}  # "half" was rolled back with the tool
    assert turn_contents(doc)[0].tool_calls[0]["error"] == "RuntimeError: the tool blew up"


def test_a_failing_model_changes_nothing(tmp_path: Path, path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps({"replies": [{"error": "the model is down"}]}))
    agent = copy.copy(load_agent("shop"))  # not the module's own: its model changes here
    assert isinstance(agent, Agent)
    conversation = open_conv(path, agent)
    try:
        send(conversation, "add 1 widget")
        before = path.read_bytes()
        agent.use_model(ScriptModel(script))
        report = send(conversation, "add 2 widgets")
    finally:
        conversation.close()
    assert not report.ok
    assert report.error == "the model is down"
    assert report.revision is None
    assert path.read_bytes() == before
    assert conversation.turns == 1
    assert len(conversation.doc.messages) == 2


def test_a_cancelled_turn_changes_nothing(path: Path) -> None:
    conversation = open_conv(path, "deploy")

    async def cancel(pending: list[PendingToolCall]) -> list[Decision]:
        raise asyncio.CancelledError

    try:
        send(conversation, "start a deployment to staging")
        send(conversation, "/add_service api 1")
        before, session = path.read_bytes(), conversation.session.to_dict()
        with pytest.raises(asyncio.CancelledError):
            run_sync(conversation.send("execute the deployment", cancel))
        assert conversation.session.to_dict() == session
        assert conversation.turns == 2
        assert path.read_bytes() == before
    finally:
        conversation.close()


def test_edit_is_a_turn_and_no_change_is_not(conv: Conversation, path: Path) -> None:
    report = conv.edit("/set a 1", "a", 1)
    assert report.revision == 1
    assert [c.kind for c in report.changes] == ["added"]
    same = conv.edit("/set a 1", "a", 1)
    assert same.changes == []
    assert same.revision is None  # nothing to save
    gone = conv.edit("/del a", "a", delete=True)
    assert gone.revision == 2
    assert read_session_file(path).turns[-1]["kind"] == "edit"
    assert read_session_file(path).session == {}


def test_undo_restores_session_and_messages(conv: Conversation, path: Path) -> None:
    send(conv, "add 2 widgets")
    send(conv, "add 3 gadgets")
    report = conv.undo()
    assert [(c.kind, c.where) for c in report.changes] == [("removed", "cart[1]")]
    doc = read_session_file(path)
    assert doc.session == {"cart": [{"item": "widget", "quantity": 2}]}
    assert len(doc.messages) == 2
    assert doc.revision == 3
    conv.undo()
    assert read_session_file(path).session == {}
    assert read_session_file(path).messages == []


def test_save_as_moves_to_the_new_file_and_releases_the_old(conv: Conversation, path: Path) -> None:
    send(conv, "add 2 widgets")
    other = path.with_name("other.json")
    report = conv.save_as(other)
    assert report.ok
    assert conv.path == other
    assert read_session_file(other).session == read_session_file(path).session
    with SessionStore(path) as old:  # free again
        old.open()
    send(conv, "add 1 gadget")
    assert len(read_session_file(other).turns) == 2
    assert len(read_session_file(path).turns) == 1


def test_save_as_to_a_locked_file_keeps_the_current_one(conv: Conversation, path: Path) -> None:
    send(conv, "add 2 widgets")
    other = path.with_name("held.json")
    holder = SessionStore(other)
    holder.open()
    try:
        with pytest.raises(SessionLockedError, match="is open in another dcaf"):
            conv.save_as(other)
    finally:
        holder.close()
    assert conv.path == path
    assert send(conv, "add 1 gadget").revision == 2


def test_a_file_changed_behind_our_back_is_not_overwritten(conv: Conversation, path: Path) -> None:
    send(conv, "add 2 widgets")
    edited = json.loads(path.read_text())
    edited["session"]["note"] = "from an editor"
    path.write_text(json.dumps(edited))
    before = path.read_bytes()

    report = send(conv, "add 3 gadgets")
    assert isinstance(report.save_error, SessionLockedError)
    assert "changed on disk" in str(report.save_error)
    assert not report.ok
    assert path.read_bytes() == before
    assert conv.unsaved
    assert conv.turns == 2  # the turn is kept in memory

    conv.reload()  # take the file's version
    assert conv.session.to_dict() == edited["session"]
    assert not conv.unsaved
    assert send(conv, "add 1 gizmo").revision == 2
    assert read_session_file(path).session["note"] == "from an editor"


def test_a_full_disk_keeps_the_turn_in_memory_and_the_file_intact(
    conv: Conversation, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(conv, "add 2 widgets")
    before = path.read_bytes()

    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module, "_write_all", full)
    report = send(conv, "add 3 gadgets")
    assert isinstance(report.save_error, SessionFileError)
    assert "No space left on device" in str(report.save_error)
    assert "the file was not changed" in str(report.save_error)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert conv.unsaved

    monkeypatch.undo()
    report = send(conv, "add 1 gizmo")
    assert report.revision == 2
    doc = read_session_file(path)
    assert [t["input"] for t in doc.turns] == ["add 2 widgets", "add 3 gadgets", "add 1 gizmo"]


def test_without_a_file_nothing_is_saved() -> None:
    conversation = open_conv(None)
    report = send(conversation, "add 2 widgets")
    assert report.revision is None
    assert conversation.unsaved
    assert conversation.path is None


def test_approve_always_is_kept_in_meta_sorted(conv: Conversation) -> None:
    conv.approve_always("b_tool")
    conv.approve_always("a_tool")
    conv.approve_always("b_tool")
    assert conv.doc.meta["always_approve"] == ["a_tool", "b_tool"]
    assert conv.always_approve == frozenset({"a_tool", "b_tool"})
    assert "always_approve" not in conv.session


def test_a_server_without_session_is_noticed_once(path: Path) -> None:
    def no_session(messages: list[Any], context: dict[str, Any]) -> AgentResult:
        return AgentResult(text="ok", data={"session_missing": True})

    conversation = open_conv(path, FunctionAgent(no_session))
    try:
        first, second = send(conversation, "hi"), send(conversation, "again")
    finally:
        conversation.close()
    assert first.notice is not None
    assert "returned no session" in first.notice
    assert second.notice is None


def test_each_message_is_validated_once_per_conversation(
    conv: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[Any] = []
    real = conversation_module.parse_messages  # type: ignore[attr-defined]

    def counting(messages: Any) -> Any:
        validated.extend(messages)
        return real(messages)

    monkeypatch.setattr(conversation_module, "parse_messages", counting)
    send(conv, "add 2 widgets")
    assert validated == []  # a new file: no history to read
    send(conv, "add 3 gadgets")
    first_turn = conv.doc.messages[:2]
    assert validated == first_turn  # the first turn's two messages, once
    send(conv, "view cart")
    assert validated == conv.doc.messages[:4]  # then only the second turn's
    conv.undo(1)
    send(conv, "view cart")
    assert validated == conv.doc.messages[:4]  # the same messages: nothing validated again


def test_the_file_owns_the_one_session_through_undo_and_reload(conv: Conversation) -> None:
    send(conv, "add 2 widgets")
    send(conv, "add 3 gadgets")
    session = conv.session
    report = conv.undo(1)
    assert [(c.kind, c.where) for c in report.changes] == [("removed", "cart[1]")]
    assert conv.session is session  # undo wrote through it, not around it
    assert session.data_view() is conv.doc.session
    assert session.is_modified  # its own record saw the turns and the undo
    conv.reload()
    assert conv.session is conv.doc.live_session() is not session
    assert conv.session.data_view() is conv.doc.session
    assert conv.session.to_dict() == session.to_dict()
