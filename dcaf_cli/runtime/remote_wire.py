"""Reading what a HelpDesk-protocol server sends back: NDJSON stream events and the
assistant message, into the runtime's events and an `AgentResponse` (see `remote`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from dcaf_cli.protocol.wire import WireExecutedCall, WireMessage, WireToolCall
from dcaf_cli.runtime.results import (
    AgentResponse,
    EventSink,
    ExecutedToolCall,
    ModelRound,
    PendingReason,
    PendingToolCall,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnEvent,
)
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import one_line, validation_problems


class RemoteError(Exception):
    """The server could not be asked, or its answer makes no sense (one line)."""


class StreamReader:
    """Collects a `/api/chat-stream` reply, passing events on as they arrive."""

    def __init__(self, on_event: EventSink | None) -> None:
        self.on_event = on_event
        self.text: list[str] = []
        self.executed: list[Any] = []
        self.pending: list[Any] = []
        self.error: str | None = None
        self.done: dict[str, Any] | None = None
        self.rounds = 0
        self._new_round = True  # text after tool results belongs to a new model reply
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "text_delta": self._text,
            "executed_tool_calls": self._executed,
            "tool_calls": self._pending,
            "error": self._error,
            "done": self._done,
        }

    def feed(self, raw: str) -> None:
        if not raw.strip():
            return
        try:
            event = json.loads(raw)
        except ValueError:
            raise RemoteError(
                f"the server's stream has a line that is not JSON: {raw[:80]}"
            ) from None
        if isinstance(event, dict):
            handler = self._handlers.get(str(event.get("type")))
            if handler is not None:
                handler(event)

    def message(self) -> dict[str, Any]:
        """The reply: `done.message` when the server sends one, else rebuilt from events."""
        if self.done is None:
            raise RemoteError(self.error or "the stream ended before its `done` event")
        message = self.done.get("message")
        if isinstance(message, dict):
            return message
        data: dict[str, Any] = {"tool_calls": self.pending, "executed_tool_calls": self.executed}
        if self.error:
            data["error"] = self.error
        return {"role": "assistant", "content": "".join(self.text), "data": data}

    def _emit(self, event: TurnEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _text(self, event: dict[str, Any]) -> None:
        text = event.get("text")
        if not isinstance(text, str) or not text:
            return
        if self._new_round:
            self.rounds += 1
            self._new_round = False
            self._emit(ModelRound(self.rounds))
        self.text.append(text)
        self._emit(TextDelta(text))

    def _executed(self, event: dict[str, Any]) -> None:
        items = event.get("executed_tool_calls")
        for item in items if isinstance(items, list) else []:
            try:
                call = executed_call(WireExecutedCall.model_validate(item))
            except ValidationError:
                continue
            self.executed.append(item)
            self._emit(ToolStarted(call.id, call.name, call.input))
            self._emit(ToolFinished(call))
        self._new_round = True

    def _pending(self, event: dict[str, Any]) -> None:
        items = event.get("tool_calls")
        self.pending = list(items) if isinstance(items, list) else []

    def _error(self, event: dict[str, Any]) -> None:
        self.error = one_line(str(event.get("error") or "the server reported an error"))

    def _done(self, event: dict[str, Any]) -> None:
        self.done = event


def executed_call(call: WireExecutedCall) -> ExecutedToolCall:
    duration = (call.model_extra or {}).get("duration_ms")
    return ExecutedToolCall(
        call.id,
        call.name,
        dict(call.input),
        call.output,
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
    try:
        message = WireMessage.model_validate(reply)
    except ValidationError as exc:
        problem = validation_problems(exc, "reply")
        raise RemoteError(f"the server's reply is not a HelpDesk message: {problem}") from None
    data = dict(message.data.model_extra or {})
    error = data.pop("error", None)
    executed = [executed_call(c) for c in message.data.executed_tool_calls]
    pending = [pending_call(c) for c in message.data.tool_calls]
    response = AgentResponse(message.content, live, executed, pending, data=data)
    if error:
        response.error = one_line(str(error))
        response.pending_tool_calls = []
    return response
