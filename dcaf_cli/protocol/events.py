"""The stream's events, as DCAF names them, and the JSON they travel in.

One JSON object per NDJSON line (or per WebSocket message)::

    {"type": "text_delta", "text": "..."}                         reply text, as it comes
    {"type": "intermittent_update", "text": "...", "content": {}}  a status line
    {"type": "executed_tool_calls", "executed_tool_calls": [...]}  calls that just ran
    {"type": "executed_approvals", "executed_approvals": [...]}    ... decided as approvals
    {"type": "approvals", "approvals": [...]}                      calls waiting (unified)
    {"type": "tool_calls", "tool_calls": [...]}                    calls waiting (legacy)
    {"type": "error", "error": "..."}                              the turn failed
    {"type": "done", "stop_reason": "...", "meta_data": {...}}     the end of a turn

Our `done` also carries `message`, the whole assistant message (`data.session`
included), so a streaming client gets the session too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dcaf_cli.session.fastjson import fast_json

# Line breaks to `str.splitlines()` (and so to many NDJSON readers) that JSON leaves raw.
_SPLITLINES_ONLY = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)
STOP_REASONS = {"error": "error", "paused": "tool_calls", "done": "end_turn"}


def encode(value: object) -> bytes:
    """Compact UTF-8 JSON (no spaces) with no character any line reader could split on.

    orjson encodes when it is installed (several times sooner), for the plain JSON data it
    knows; the stdlib encodes what orjson leaves to it (an integer over 64 bits, nesting
    over 254 levels, a datetime, dataclass or subclass) or raises for what is not JSON
    data. NaN and Infinity (a model's `1e999` argument echoed back) go out as null with
    orjson, and raise without it."""
    out = _fast_encode(value)
    if out is None:
        out = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=_COMPACT).encode()
    if out.isascii():  # the usual case: none of them, and a scan at C speed says so
        return out
    for raw, escaped in _SPLITLINES_ONLY:
        out = out.replace(raw, escaped)
    return out


_COMPACT = (",", ":")  # as orjson writes it: the same bytes with it or without


def _fast_encode(value: object) -> bytes | None:
    fast = fast_json()
    if fast is None:
        return None
    to_stdlib = (  # so that it raises for them, and the stdlib decides
        fast.OPT_PASSTHROUGH_DATETIME
        | fast.OPT_PASSTHROUGH_DATACLASS
        | fast.OPT_PASSTHROUGH_SUBCLASS
    )
    try:
        out: bytes = fast.dumps(value, option=to_stdlib)
    except fast.JSONEncodeError:
        return None
    return out


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, **fields}


def text_delta(text: str) -> dict[str, Any]:
    return event("text_delta", text=text)


def executed(calls: Sequence[Mapping[str, Any]], *, approvals: bool = False) -> dict[str, Any]:
    """`executed_tool_calls`, or `executed_approvals` for calls decided as approvals."""
    if approvals:
        return event("executed_approvals", executed_approvals=list(calls))
    return event("executed_tool_calls", executed_tool_calls=list(calls))


def stop_reason(message: Mapping[str, Any]) -> str:
    data = message.get("data") or {}
    if data.get("error") is not None:
        return STOP_REASONS["error"]
    return STOP_REASONS["paused" if data.get("tool_calls") else "done"]


def closing(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events between the live ones and `done`: the error, or the pending calls
    (`approvals` first, then `tool_calls`, as DCAF sends them)."""
    data = message.get("data") or {}
    if data.get("error") is not None:
        return [event("error", error=str(data["error"]))]
    if data.get("tool_calls"):
        return [
            event("approvals", approvals=data.get("approvals", [])),
            event("tool_calls", tool_calls=data["tool_calls"]),
        ]
    return []


def done_head(message: Mapping[str, Any]) -> bytes:
    """`done` up to its `message` field: the caller splices the message's bytes after it
    (a 100 KB session is not encoded twice) and closes it with `}`."""
    meta = encode(message.get("meta_data") or {})
    return b'{"type":"done","stop_reason":"%s","meta_data":%s,"message":' % (
        stop_reason(message).encode(),
        meta,
    )
