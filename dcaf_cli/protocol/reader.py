"""Reading what a HelpDesk server answers: stream events and the assistant message.

`StreamReader` takes a stream line by line (NDJSON, or WebSocket messages) and says what
each line shows (`Text`, `Executed` calls, a `Status` line from `intermittent_update`);
`message()` is the answer: `done.message` when the server sends one (ours does), else the
message rebuilt from the events (DCAF's servers send none). `read_message` checks an
answer and reads it into the runtime's shape: plain ids (a signature bound into an id is
moved to `signature`), DCAF's unified approvals as tool calls, executed approvals among
the executed calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dcaf_cli.protocol.approvals import fold
from dcaf_cli.protocol.wire import WireExecutedCall, WireMessage
from dcaf_cli.session.text import one_line, validation_problems


class WireError(Exception):
    """The server's answer is not what the protocol says (one line)."""


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Executed:
    calls: list[WireExecutedCall]


@dataclass(frozen=True, slots=True)
class Status:
    text: str


Shown = Text | Executed | Status


class StreamReader:
    """Collects a stream's answer, saying what each event shows as it arrives."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.executed: list[Any] = []
        self.executed_approvals: list[Any] = []
        self.pending: list[Any] = []
        self.approvals: list[Any] = []
        self.error: str | None = None
        self.done: dict[str, Any] | None = None
        self._handlers: dict[str, Callable[[dict[str, Any]], list[Shown]]] = {
            "text_delta": self._text,
            "intermittent_update": self._status,
            "executed_tool_calls": self._executed,
            "executed_approvals": self._executed,
            "tool_calls": self._pending,
            "approvals": self._pending,
            "error": self._error,
            "done": self._done,
        }

    def feed(self, raw: str) -> list[Shown]:
        if not raw.strip():
            return []
        try:
            event = json.loads(raw)
        except ValueError:
            shown = raw[:80]
            raise WireError(f"the server's stream has a line that is not JSON: {shown}") from None
        if not isinstance(event, dict):
            return []
        handler = self._handlers.get(str(event.get("type")))
        return handler(event) if handler is not None else []

    @property
    def finished(self) -> bool:
        """Has the turn ended (`done`, or an `error` from a server that sends no `done`)?"""
        return self.done is not None

    def message(self) -> dict[str, Any]:
        """The answer: `done.message` when the server sends one, else rebuilt."""
        if self.done is None:
            raise WireError(self.error or "the stream ended before its `done` event")
        message = self.done.get("message")
        if isinstance(message, dict):
            return message
        data: dict[str, Any] = {
            "tool_calls": self.pending,
            "approvals": self.approvals,
            "executed_tool_calls": self.executed,
            "executed_approvals": self.executed_approvals,
        }
        if self.error:
            data["error"] = self.error
        return {"role": "assistant", "content": "".join(self.text), "data": data}

    def _text(self, event: dict[str, Any]) -> list[Shown]:
        text = event.get("text")
        if not isinstance(text, str) or not text:
            return []
        self.text.append(text)
        return [Text(text)]

    def _status(self, event: dict[str, Any]) -> list[Shown]:
        text = event.get("text")
        return [Status(one_line(text))] if isinstance(text, str) and text.strip() else []

    def _executed(self, event: dict[str, Any]) -> list[Shown]:
        kind = str(event["type"])
        items = event.get(kind)
        kept = self.executed if kind == "executed_tool_calls" else self.executed_approvals
        calls: list[WireExecutedCall] = []
        for item in items if isinstance(items, list) else []:
            try:
                call = WireExecutedCall.model_validate(item)
            except ValidationError:
                continue
            kept.append(item)
            calls.append(call)
        return [Executed(calls)] if calls else []

    def _pending(self, event: dict[str, Any]) -> list[Shown]:
        kind = str(event["type"])
        items = event.get(kind)
        calls = list(items) if isinstance(items, list) else []
        if kind == "tool_calls":
            self.pending = calls
        else:
            self.approvals = calls
        return []

    def _error(self, event: dict[str, Any]) -> list[Shown]:
        self.error = one_line(str(event.get("error") or "the server reported an error"))
        if isinstance(event.get("message"), dict):  # ours, over a WebSocket: the end
            self.done = event
        return []

    def _done(self, event: dict[str, Any]) -> list[Shown]:
        self.done = event
        return []


def read_message(reply: Any) -> WireMessage:
    """The server's assistant message, in the runtime's shape (see the module's doc)."""
    try:
        message = WireMessage.model_validate(reply)
    except ValidationError as exc:
        problem = validation_problems(exc, "reply")
        raise WireError(f"the server's reply is not a HelpDesk message: {problem}") from None
    fold([message])
    return message


def sent_approvals(reply: Any) -> bool:
    """Did the answer propose calls in DCAF's unified `data.approvals`?"""
    data = reply.get("data") if isinstance(reply, dict) else None
    return isinstance(data, dict) and bool(data.get("approvals"))
