"""Signed call ids and DCAF's unified approvals, read into the runtime's shape."""

from __future__ import annotations

from dcaf_cli.protocol.approvals import approval_of, fold, unfold_decisions
from dcaf_cli.protocol.callid import signed_id, split_id
from dcaf_cli.protocol.reader import Executed, Status, StreamReader, read_message
from dcaf_cli.protocol.wire import parse_messages

SIGNATURE = "v2.1795614753.q3RdQ8sXw1KbT0yv.HOoOkVdrIuFcyVpe3gU92A"


def test_a_signature_bound_into_an_id_splits_back_out() -> None:
    assert split_id(signed_id("offline-1", SIGNATURE)) == ("offline-1", SIGNATURE)
    assert split_id(signed_id("call.with.dots", SIGNATURE)) == ("call.with.dots", SIGNATURE)
    assert signed_id("offline-1", None) == "offline-1"


def test_ids_that_only_look_signed_stay_whole() -> None:
    for wire_id in ("offline-1", "a.v1.1.b.c", "a.v2.x.b.c", "a.v2.1..c", ".v2.1.b.c", "v2.1.b.c"):
        assert split_id(wire_id) == (wire_id, None)


def test_fold_reads_unified_decisions_as_tool_calls() -> None:
    wire_id = signed_id("offline-1", SIGNATURE)
    decision = {"id": wire_id, "type": "tool_call", "name": "deploy", "input": {}, "execute": True}
    command = {"id": "c", "type": "command", "name": "sh", "input": {}, "execute": True}
    messages = parse_messages([{"role": "user", "data": {"approvals": [decision, command]}}])
    folded = fold(messages)
    [call] = messages[0].data.tool_calls
    assert (call.id, call.signature, call.execute) == ("offline-1", SIGNATURE, True)
    assert folded.wire_ids == {"offline-1": wire_id}
    assert folded.via_approvals == {"offline-1"}
    assert [a.type for a in folded.foreign] == ["command"]


def test_fold_reads_a_paused_answers_approvals_and_executed_approvals() -> None:
    proposal = {"id": "p-1", "type": "tool_call", "name": "deploy", "input": {"a": 1}}
    done = {"id": "e-1", "type": "tool_call", "name": "check", "input": {}, "output": "ok"}
    data = {"approvals": [proposal], "executed_approvals": [done]}
    messages = parse_messages([{"role": "assistant", "data": data}])
    fold(messages)
    assert [c.id for c in messages[0].data.tool_calls] == ["p-1"]
    assert [c.id for c in messages[0].data.executed_tool_calls] == ["e-1"]


def test_unfold_puts_decisions_in_dcafs_unified_form() -> None:
    call = {"id": "t-1", "name": "delete_pod", "input": {"n": 1}, "execute": False}
    message = {"role": "user", "data": {"tool_calls": [{**call, "rejection_reason": "no"}]}}
    [approval] = unfold_decisions(message)["data"]["approvals"]
    assert approval == {**approval_of(call), "rejection_reason": "no"}
    assert "tool_calls" not in unfold_decisions(message)["data"]


def test_a_stream_without_a_message_is_rebuilt_from_its_events() -> None:
    reader = StreamReader()
    shown = [
        reader.feed('{"type": "intermittent_update", "text": "Thinking...\\n", "content": {}}'),
        reader.feed(
            '{"type": "approvals", "approvals": [{"id": "a", "type": "tool_call", '
            '"name": "x", "input": {}}]}'
        ),
        reader.feed(
            '{"type": "executed_approvals", "executed_approvals": [{"id": "b", '
            '"type": "tool_call", "name": "y", "input": {}, "output": "ok"}]}'
        ),
        reader.feed('{"type": "done"}'),
    ]
    assert shown[0] == [Status("Thinking...")]
    assert isinstance(shown[2][0], Executed)
    message = read_message(reader.message())
    assert [c.id for c in message.data.tool_calls] == ["a"]
    assert [c.id for c in message.data.executed_tool_calls] == ["b"]
