"""What a turn record says about its tool calls and reply, wherever it keeps them.

A chat turn's record points at the messages it appended (`messages`: how many; they are
the last ones, after the messages of the later turns), whose last one, the reply, holds
the reply text and every call the turn ran (`data.executed_tool_calls`). So the record
does not copy them: a tool's 1 MB value would otherwise be stored twice more per turn.
A record keeps its own `tool_calls` and `reply` only where no message holds them: a
direct call made over MCP (it appends no message), a record whose messages `/clear`
dropped, and every record written before records pointed at their messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from dcaf_cli.session.jsonvalue import JSON, copy_json, same
from dcaf_cli.store.sessionfile import SessionFile, TurnRecord

CALLS, REPLY = "tool_calls", "reply"


@dataclass(frozen=True, slots=True)
class TurnContent:
    """One record's messages (`doc.messages[start:stop]`), calls and reply."""

    record: TurnRecord
    start: int
    stop: int
    tool_calls: list[dict[str, Any]]
    reply: str | None


def turn_contents(doc: SessionFile) -> list[TurnContent]:
    """A `TurnContent` for each record of `doc`, in order.

    The messages are found from the end, as undo drops them: a file whose counts add up
    to more messages than it has (edited by hand) gets the earliest records' spans cut
    at the first message rather than an error, so it can still be shown.
    """
    out: list[TurnContent] = []
    stop = len(doc.messages)
    for record in reversed(doc.turns):
        start = max(0, stop - message_count(record))
        out.append(_content(record, doc.messages[start:stop], start, stop))
        stop = start
    out.reverse()
    return out


def message_count(record: TurnRecord) -> int:
    """How many messages the record's turn appended (0 when the record says nonsense)."""
    count = record.get("messages", 0)
    return count if is_count(count) else 0


def is_count(count: object) -> bool:
    """Whether a record's `messages` is a count of messages: a whole number, 0 or more."""
    return type(count) is int and count >= 0


def complete_records(doc: SessionFile) -> list[TurnRecord]:
    """The records, each with its `tool_calls` and `reply` (shallow copies: to print)."""
    return [
        cast("TurnRecord", {**c.record, CALLS: c.tool_calls, REPLY: c.reply})
        for c in turn_contents(doc)
    ]


def keep_without_messages(doc: SessionFile) -> None:
    """Copy into each record the calls and reply its messages hold, before the messages
    are dropped (`/clear`), so the log and replay still have them."""
    for content in turn_contents(doc):
        if content.start < content.stop:
            calls = copy_json(cast("JSON", content.tool_calls))
            content.record["tool_calls"] = cast("list[dict[str, Any]]", calls)
            content.record["reply"] = content.reply


def points_at(
    messages: list[dict[str, Any]], calls: list[dict[str, Any]], reply: str | None
) -> bool:
    """Whether the last of a turn's `messages` holds exactly its `calls` and `reply`, so
    its record need not copy them."""
    if not messages:
        return False
    last = messages[-1]
    data = last.get("data")
    held = data.get("executed_tool_calls") if isinstance(data, dict) else None
    return last.get("content") == reply and same(held or [], calls)  # type: ignore[arg-type]


def _content(
    record: TurnRecord, messages: list[dict[str, Any]], start: int, stop: int
) -> TurnContent:
    if CALLS in record or REPLY in record or not messages:
        calls = record.get(CALLS)
        reply = record.get(REPLY)
    else:
        last = messages[-1]
        data = last.get("data")
        calls = data.get("executed_tool_calls") if isinstance(data, dict) else None
        reply = last.get("content")
    return TurnContent(
        record,
        start,
        stop,
        [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else [],
        reply if isinstance(reply, str) else None,
    )
