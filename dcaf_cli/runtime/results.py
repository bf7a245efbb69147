"""What a turn produces: executed and pending tool calls, events, and the response.

`AgentResponse.to_message()` is the HelpDesk-protocol assistant message, so the REPL,
the HTTP server and the remote client all speak one shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from dcaf_cli.session.diff import Change, to_patch
from dcaf_cli.session.jsonvalue import JSON
from dcaf_cli.session.session import Session


@dataclass(slots=True)
class ExecutedToolCall:
    id: str
    name: str
    input: dict[str, Any]
    output: str
    duration_ms: float = 0.0
    error: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "input": self.input,
            "output": self.output,
        }
        wire["duration_ms"] = round(self.duration_ms, 3)
        if self.error is not None:
            wire["error"] = self.error
        return wire


PendingReason = Literal["approval", "missing_arguments"]


@dataclass(slots=True)
class PendingToolCall:
    """A call waiting for the user: an approval, or arguments the offline model lacks."""

    id: str
    name: str
    input: dict[str, Any]
    description: str = ""
    reason: PendingReason = "approval"
    missing: list[str] = field(default_factory=list)
    signature: str | None = None  # set by a server that must recognise its own proposals

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "input": self.input,
            "execute": False,
            "tool_description": self.description,
            "intent": self.reason,
        }
        if self.missing:
            wire["missing"] = self.missing
        if self.signature is not None:
            wire["signature"] = self.signature
        return wire


@dataclass(frozen=True, slots=True)
class Decision:
    """The user's answer to a pending call: run it (perhaps with edited input) or not."""

    id: str
    approve: bool
    reason: str | None = None
    input: dict[str, Any] | None = None  # edited arguments, when the user changed them

    def to_wire(self, pending: PendingToolCall) -> dict[str, Any]:
        wire = pending.to_wire()
        wire["execute"] = self.approve
        if self.input is not None:
            wire["input"] = self.input
        if not self.approve:
            wire["rejection_reason"] = self.reason or "rejected by the user"
        return wire


@dataclass(slots=True)
class AgentResult:
    """What a custom agent function may return (a plain string works too).

    `pending_tools` are calls the function asks the user to approve (`PendingToolCall`s,
    or anything with `id`, `name`, `input` and perhaps `description`, as DCAF's
    `ToolApproval`); the calls the user then approves reach the function in
    `context["approved_tool_calls"]`, and the function runs them.
    """

    text: str = ""
    session: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    pending_tools: list[Any] = field(default_factory=list)


# -- events a UI can follow while a turn runs ------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolStarted:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolFinished:
    call: ExecutedToolCall


@dataclass(frozen=True, slots=True)
class ModelRound:
    """A new model round begins (text streamed after it belongs to a new reply)."""

    n: int


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A status line from a remote server while it works (`intermittent_update`)."""

    text: str


TurnEvent = TextDelta | ToolStarted | ToolFinished | ModelRound | StatusUpdate
EventSink = Callable[[TurnEvent], None]


Resume = Callable[[list[Decision]], Awaitable["AgentResponse"]]


@dataclass(slots=True)
class AgentResponse:
    """The outcome of one turn (or of one part of it, when it paused for the user)."""

    text: str
    live_session: Session
    executed_tool_calls: list[ExecutedToolCall] = field(default_factory=list)
    pending_tool_calls: list[PendingToolCall] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = None
    blocked: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    # A paused local turn carries on from here with the user's decisions (in memory); a
    # remote one has none: its decisions go back as the next request.
    resume: Resume | None = field(default=None, repr=False, compare=False)

    @property
    def session(self) -> dict[str, JSON]:
        """The session after the turn, as plain JSON data (a copy)."""
        return self.live_session.to_dict()

    @property
    def is_paused(self) -> bool:
        return bool(self.pending_tool_calls)

    # DCAF's names for the same facts, which DCAF agent code reads.
    @property
    def needs_approval(self) -> bool:
        return self.is_paused

    @property
    def pending_tools(self) -> list[PendingToolCall]:
        return self.pending_tool_calls

    @property
    def is_complete(self) -> bool:
        return not self.is_paused

    @property
    def patch(self) -> list[dict[str, Any]]:
        """The turn's session change as an RFC 6902 JSON Patch."""
        return to_patch(self.changes)

    def to_message(self, *, include_session: bool = True) -> dict[str, Any]:
        """The HelpDesk-protocol assistant message for this response."""
        data: dict[str, Any] = dict(self.data)
        data["tool_calls"] = [p.to_wire() for p in self.pending_tool_calls]
        data["executed_tool_calls"] = [c.to_wire() for c in self.executed_tool_calls]
        if include_session:
            data["session"] = self.session
        if self.error:
            data["error"] = self.error
        return {"role": "assistant", "content": self.text, "data": data}
