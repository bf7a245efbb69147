"""The HelpDesk protocol's wire shapes, and the conversation they carry.

A request is `{"messages": [...], ...}`; the other top-level fields are the request's
context (echoed back in `meta_data.request_context`). The session travels in the most
recent message whose `data.session` holds one, and comes back in the assistant message's
`data.session`, beside `data.tool_calls` (calls waiting for approval, `execute: false`;
DCAF's unified form repeats them in `data.approvals`) and `data.executed_tool_calls`.
Approval decisions come back in the last user message's `data.tool_calls` or
`data.approvals` (`execute: true`, or a `rejection_reason`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dcaf_cli.errors import UsageError
from dcaf_cli.models.base import Message, ToolCall
from dcaf_cli.session.text import validation_problems

# Unknown fields are kept (a DCAF client's extras travel on). The validators are built on
# first use, not at import: the chat reaches its prompt without paying for them.
_CONFIG = ConfigDict(extra="allow", defer_build=True)


class WireToolCall(BaseModel):
    model_config = _CONFIG
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    execute: bool = False
    rejection_reason: str | None = None
    tool_description: str = ""
    intent: str | None = None
    missing: list[str] = Field(default_factory=list)
    signature: str | None = None

    @property
    def decided(self) -> bool:
        return self.execute or self.rejection_reason is not None


class WireExecutedCall(BaseModel):
    model_config = _CONFIG
    id: str = ""
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    output: str | dict[str, Any] = ""  # DCAF allows a dict
    error: str | None = None

    @property
    def text(self) -> str:
        """The output as text: a dict output as compact JSON."""
        if isinstance(self.output, str):
            return self.output
        return json.dumps(self.output, ensure_ascii=False, separators=(",", ":"))


class WireApproval(BaseModel):
    """DCAF's unified approval item (`type` is `tool_call` for a tool call)."""

    model_config = _CONFIG
    id: str
    type: str = "tool_call"
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    execute: bool = False
    rejection_reason: str | None = None
    description: str = ""
    intent: str | None = None

    @property
    def decided(self) -> bool:
        return self.execute or self.rejection_reason is not None

    def as_tool_call(self) -> WireToolCall:
        return WireToolCall(
            id=self.id,
            name=self.name,
            input=self.input,
            execute=self.execute,
            rejection_reason=self.rejection_reason,
            tool_description=self.description,
            intent=self.intent,
        )


class WireData(BaseModel):
    model_config = _CONFIG
    session: dict[str, Any] | None = None
    tool_calls: list[WireToolCall] = Field(default_factory=list)
    executed_tool_calls: list[WireExecutedCall] = Field(default_factory=list)
    approvals: list[WireApproval] = Field(default_factory=list)
    executed_approvals: list[WireExecutedCall] = Field(default_factory=list)


class WireMessage(BaseModel):
    model_config = _CONFIG
    role: Literal["user", "assistant", "system"]
    content: str = ""
    data: WireData = Field(default_factory=WireData)
    platform_context: dict[str, Any] | None = None


class ChatRequest(BaseModel):
    model_config = _CONFIG
    messages: list[WireMessage]

    @property
    def context(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def parse_messages(messages: Sequence[Mapping[str, Any] | WireMessage]) -> list[WireMessage]:
    """Validate protocol messages; a bad one is a UsageError naming where it is wrong."""
    try:
        return [
            m if isinstance(m, WireMessage) else WireMessage.model_validate(m) for m in messages
        ]
    except ValidationError as exc:
        raise UsageError(f"bad message: {validation_problems(exc, 'messages')}") from None


def session_message(messages: Sequence[WireMessage]) -> WireMessage | None:
    """The message that carries the session: the most recent one, of any role, with a
    `data.session` object, as DCAF reads it. DCAF skips every empty `{}` (its models put
    one in each message); we skip those of user messages only. An assistant message's
    `{}` is a session that its turn emptied, and stays empty (DCAF would bring back an
    older one)."""
    for message in reversed(messages):
        session = message.data.session
        if session or (session is not None and message.role == "assistant"):
            return message
    return None


def incoming_session(messages: Sequence[WireMessage]) -> dict[str, Any] | None:
    """The session the client sent (see `session_message`)."""
    carrier = session_message(messages)
    return carrier.data.session if carrier is not None else None


def pending_decisions(messages: Sequence[WireMessage]) -> list[WireToolCall]:
    """Approval decisions in the last message, if it is a user message that carries any."""
    if not messages or messages[-1].role != "user":
        return []
    return [c for c in messages[-1].data.tool_calls if c.decided]


def approved_calls(messages: Sequence[WireMessage]) -> list[dict[str, Any]]:
    """The calls the last message approves, as DCAF hands them to a custom function."""
    return [
        {"id": c.id, "name": c.name, "input": dict(c.input)}
        for c in pending_decisions(messages)
        if c.execute
    ]


def to_model_messages(messages: Sequence[WireMessage]) -> list[Message]:
    """The conversation as the model sees it: text, and the tool calls each reply made."""
    out: list[Message] = []
    for message in messages:
        if message.role == "user":
            if message.content:
                out.append(Message("user", message.content))
        elif message.role == "assistant":
            executed = message.data.executed_tool_calls
            if executed:
                out += executed_as_messages(executed)
            if message.content:
                out.append(Message("assistant", message.content))
    return out


def executed_as_messages(
    executed: Sequence[WireExecutedCall], pending: Sequence[WireToolCall] = ()
) -> list[Message]:
    """An assistant message making these calls, then a result for each executed one."""
    calls = [ToolCall(c.id or f"call-{i}", c.name, c.input) for i, c in enumerate(executed)]
    calls += [ToolCall(p.id, p.name, p.input) for p in pending]
    out = [Message("assistant", "", tool_calls=calls)]
    for call, done in zip(calls, executed, strict=False):
        out.append(
            Message(
                "tool",
                done.error or done.text,
                tool_call_id=call.id,
                tool_name=done.name,
                is_error=done.error is not None,
            )
        )
    return out
