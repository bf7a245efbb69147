"""A turn over a long conversation: what the history costs a turn that pauses for approval.

`Conversation.send` runs one user turn whose tool asks for approval: the model proposes
the call, the turn pauses, the decision comes back, the tool runs and the model replies.
The conversation already holds 2,000 messages (or 10, the baseline, measured in the same
run); nothing is written (no store), so the figure is the turn's own work. The messages
are validated once per conversation, not on every model call, and a local agent resumes
after the approval in memory, without turning the paused turn into wire messages and
parsing them back: so the whole turn, pause included, costs less than validating the
history once (which every turn paid twice when it paused).
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks import Row, time_statements
from dcaf_cli import Agent, Session, tool
from dcaf_cli.conversation import Conversation
from dcaf_cli.protocol.wire import parse_messages
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.store.sessionfile import new_session_file

LONG, SHORT = 2_000, 10
TEXT = "bump the counter"  # free text: the offline model reads it and picks the tool


@tool(requires_approval=True, description="Bump the counter")
def bump(session: Session) -> str:
    session.set("counter", session.get("counter", 0) + 1)
    return "bumped"


async def _approve(pending: list[PendingToolCall]) -> list[Decision]:
    return [Decision(p.id, True) for p in pending]


def _history(n: int) -> list[dict[str, Any]]:
    """`n` messages of a conversation under way: questions, and replies with a tool call."""
    out: list[dict[str, Any]] = []
    for i in range(n // 2):
        out.append({"role": "user", "content": f"question {i}: what is in order {i}?"})
        call = {"id": f"c{i}", "name": "bump", "input": {}, "output": "bumped"}
        out.append(
            {"role": "assistant", "content": f"answer {i}", "data": {"executed_tool_calls": [call]}}
        )
    return out


class _Chat:
    """A conversation of `n` messages whose every timed turn sees the same history."""

    def __init__(self, n: int, loop: asyncio.AbstractEventLoop) -> None:
        doc = new_session_file()
        doc.messages = _history(n)
        self.conversation = Conversation(Agent(tools=[bump], model="offline"), doc)
        self.loop = loop
        self.send()  # the first turn may read the history; the timed ones are the next

    def send(self) -> None:
        doc = self.conversation.doc
        messages, turns = len(doc.messages), len(doc.turns)
        report = self.loop.run_until_complete(self.conversation.send(TEXT, _approve))
        if not report.ok or [c.name for c in report.executed] != ["bump"]:
            raise RuntimeError(f"the turn failed: {report.error}")
        del doc.messages[messages:]
        del doc.turns[turns:]


def bench_paused_turn() -> list[Row]:
    loop = asyncio.new_event_loop()
    try:
        namespace = {
            "long": _Chat(LONG, loop),
            "short": _Chat(SHORT, loop),
            "parse": parse_messages,
            "history": _history(LONG),
        }
        statements = {"long": "long.send()", "short": "short.send()", "parse": "parse(history)"}
        t = time_statements(statements, namespace, repeat=5, min_time=0.05)
    finally:
        loop.close()
    name = f"a turn paused for approval, {LONG:,}-message history"
    return [
        Row(name, t["long"], "s", t["parse"], f"validating the {LONG:,} messages once",
            max_ratio=1.0,
            note="offline model, no file; the messages are validated once per conversation, "
            "and the turn resumes after the approval in memory"),
        Row(f"{name}, against a short one", t["long"], "s", t["short"],
            f"{SHORT}-message history",
            note="what is left grows with the history: the model is given the whole "
            "conversation, converted to its messages once per turn"),
    ]  # fmt: skip
