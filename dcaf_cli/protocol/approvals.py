"""DCAF's unified approvals beside our tool calls, both ways.

DCAF sends a call waiting for approval twice: in `data.tool_calls` (legacy) and in
`data.approvals` (`type: "tool_call"`, `description` for `tool_description`), and takes the
decision back in either. Ids go out signed (see `callid`). `fold` reads a conversation as
the client sent it into the one shape the runtime reads: plain ids, decisions in
`data.tool_calls`, executed approvals among `data.executed_tool_calls`. `unfold_decisions`
is the client's side: a decision message in DCAF's unified form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcaf_cli.protocol.callid import split_id
from dcaf_cli.protocol.wire import WireApproval, WireExecutedCall, WireMessage, WireToolCall

TOOL_CALL = "tool_call"


def approval_of(call: Mapping[str, Any]) -> dict[str, Any]:
    """The unified approval item for a `data.tool_calls` item."""
    out: dict[str, Any] = {
        "id": call["id"],
        "type": TOOL_CALL,
        "name": call["name"],
        "input": call.get("input", {}),
        "execute": bool(call.get("execute", False)),
        "description": call.get("tool_description", ""),
        "intent": call.get("intent"),
    }
    if call.get("rejection_reason") is not None:
        out["rejection_reason"] = call["rejection_reason"]
    return out


def executed_approval_of(call: Mapping[str, Any]) -> dict[str, Any]:
    """The unified record of an executed call (DCAF's `output` is text only)."""
    output = call.get("error") or call.get("output", "")
    if not isinstance(output, str):
        output = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
    return {
        "id": call["id"],
        "type": TOOL_CALL,
        "name": call["name"],
        "input": call.get("input", {}),
        "output": output,
    }


@dataclass(slots=True)
class Folded:
    """A conversation in the runtime's shape, and what the answer must remember of it."""

    messages: list[WireMessage]
    wire_ids: dict[str, str] = field(default_factory=dict)  # plain id -> id as received
    via_approvals: set[str] = field(default_factory=set)  # decided in `data.approvals`
    foreign: list[WireApproval] = field(default_factory=list)  # approvals of other types


def fold(messages: list[WireMessage]) -> Folded:
    """Plain ids everywhere; unified approvals as tool calls. Changes `messages` in place."""
    folded = Folded(messages)
    last = len(messages) - 1
    for index, message in enumerate(messages):
        data = message.data
        for call in data.tool_calls:
            _split_call(call, folded if index == last else None)
        for done in (*data.executed_tool_calls, *data.executed_approvals):
            done.id = split_id(done.id)[0]
        _fold_executed(data.executed_tool_calls, data.executed_approvals)
        _fold_approvals(message, folded, decisions=index == last and message.role == "user")
    return folded


def _split_call(call: WireToolCall, folded: Folded | None) -> None:
    plain, signature = split_id(call.id)
    if folded is not None and call.decided:
        folded.wire_ids[plain] = call.id
    if signature is not None:
        call.id, call.signature = plain, signature  # the id's copy is the one DCAF keeps


def _fold_executed(executed: list[WireExecutedCall], approved: list[WireExecutedCall]) -> None:
    known = {c.id for c in executed}
    executed += [c for c in approved if c.id not in known]


def _fold_approvals(message: WireMessage, folded: Folded, *, decisions: bool) -> None:
    data = message.data
    known = {c.id for c in data.tool_calls}
    for approval in data.approvals:
        if approval.type != TOOL_CALL:
            if decisions and approval.execute:
                folded.foreign.append(approval)
            continue
        call = approval.as_tool_call()
        wire_id = call.id
        _split_call(call, None)
        if call.id in known or (decisions and not call.decided) or (not decisions and call.decided):
            continue
        if decisions:
            folded.wire_ids[call.id] = wire_id
            folded.via_approvals.add(call.id)
        data.tool_calls.append(call)
        known.add(call.id)


def unfold_decisions(message: Mapping[str, Any]) -> dict[str, Any]:
    """A decision message with its decisions in DCAF's `data.approvals` instead."""
    data = dict(message.get("data") or {})
    calls: Sequence[Mapping[str, Any]] = data.pop("tool_calls", [])
    data["approvals"] = [approval_of(c) for c in calls]
    return {**message, "data": data}
