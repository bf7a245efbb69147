"""What a HelpDesk server's answer means to the runtime: the stream's events as the
runtime's events, and the assistant message as an `AgentResponse` (see `remote`). The
wire itself is read in `protocol.reader`."""

from __future__ import annotations

from typing import Any

from dcaf_cli.protocol.reader import Executed, Shown, Status, StreamReader, Text, read_message
from dcaf_cli.protocol.wire import WireExecutedCall, WireToolCall
from dcaf_cli.runtime.results import (
    AgentResponse,
    EventSink,
    ExecutedToolCall,
    ModelRound,
    PendingReason,
    PendingToolCall,
    StatusUpdate,
    TextDelta,
    ToolFinished,
    ToolStarted,
)
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import one_line


class RemoteError(Exception):
    """The server could not be asked, or its answer makes no sense (one line)."""


class StreamEvents:
    """Feeds a stream to a `StreamReader`, passing what it shows on as runtime events.
    Text after tool results belongs to a new model reply (`ModelRound`)."""

    def __init__(self, on_event: EventSink | None) -> None:
        self.on_event = on_event
        self.reader = StreamReader()
        self.rounds = 0
        self._new_round = True

    def feed(self, raw: str) -> None:
        for shown in self.reader.feed(raw):
            self._show(shown)

    def _show(self, shown: Shown) -> None:
        if isinstance(shown, Text):
            if self._new_round:
                self.rounds += 1
                self._new_round = False
                self._emit(ModelRound(self.rounds))
            self._emit(TextDelta(shown.text))
        elif isinstance(shown, Executed):
            for wire in shown.calls:
                call = executed_call(wire)
                self._emit(ToolStarted(call.id, call.name, call.input))
                self._emit(ToolFinished(call))
            self._new_round = True
        elif isinstance(shown, Status):
            self._emit(StatusUpdate(shown.text))

    def _emit(self, event: Any) -> None:
        if self.on_event is not None:
            self.on_event(event)


def executed_call(call: WireExecutedCall) -> ExecutedToolCall:
    duration = (call.model_extra or {}).get("duration_ms")
    return ExecutedToolCall(
        call.id,
        call.name,
        dict(call.input),
        call.text,
        float(duration) if isinstance(duration, int | float) else 0.0,
        call.error,
    )


def pending_call(call: WireToolCall) -> PendingToolCall:
    reason: PendingReason = (
        "missing_arguments" if call.intent == "missing_arguments" else "approval"
    )
    return PendingToolCall(
        call.id,
        call.name,
        dict(call.input),
        call.tool_description,
        reason,
        list(call.missing),
        call.signature,
    )


def to_response(reply: Any, live: Session) -> AgentResponse:
    """The server's assistant message as a response (the session is applied separately)."""
    message = read_message(reply)
    data = dict(message.data.model_extra or {})
    error = data.pop("error", None)
    executed = [executed_call(c) for c in message.data.executed_tool_calls]
    pending = [pending_call(c) for c in message.data.tool_calls]
    response = AgentResponse(message.content, live, executed, pending, data=data)
    if error:
        response.error = one_line(str(error))
        response.pending_tool_calls = []
    return response
