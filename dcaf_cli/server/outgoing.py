"""The answer as DCAF's clients read it: every field DCAF's schema requires.

- a call waiting for approval goes out with its signature bound into its `id` (see
  `callid`), its `input_description` (the tool's parameters, as JSON Schema properties),
  and again in DCAF's unified `data.approvals`;
- a call the request decided goes back under the id the client sent, so it can match the
  result to its decision; those decided in `data.approvals` are repeated in
  `data.executed_approvals`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dcaf_cli.protocol.approvals import Folded, approval_of, executed_approval_of
from dcaf_cli.protocol.callid import signed_id
from dcaf_cli.tools.tool import Tool

Descriptions = Mapping[str, dict[str, Any]]


def input_descriptions(tools: Iterable[Tool[..., Any]]) -> dict[str, dict[str, Any]]:
    """Each tool's parameters as `input_description` (JSON Schema properties)."""
    return {t.name: dict(t.parameters.get("properties", {})) for t in tools}


def dress(message: dict[str, Any], folded: Folded, descriptions: Descriptions) -> None:
    """Add DCAF's fields to an assistant message built by the runtime (in place)."""
    data = message["data"]
    for call in data["tool_calls"]:
        call["id"] = signed_id(call["id"], call.get("signature"))
        call["input_description"] = descriptions.get(call["name"], {})
    data["approvals"] = [approval_of(c) for c in data["tool_calls"]]
    executed = [as_sent(c, folded) for c in data["executed_tool_calls"]]
    data["executed_tool_calls"] = executed
    data["executed_approvals"] = [
        executed_approval_of(c) for c in executed if decided_as_approval(c, folded)
    ]


def as_sent(call: dict[str, Any], folded: Folded) -> dict[str, Any]:
    """An executed call under the id its decision came with."""
    wire_id = folded.wire_ids.get(call["id"])
    return {**call, "id": wire_id} if wire_id else call


def decided_as_approval(call: Mapping[str, Any], folded: Folded) -> bool:
    """Was this (already renamed) call decided in `data.approvals`?"""
    return any(folded.wire_ids.get(plain) == call["id"] for plain in folded.via_approvals)
