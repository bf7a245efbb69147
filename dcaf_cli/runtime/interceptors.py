"""Request and response interceptors: code that sees (and may change) model calls, with
the objects DCAF documents.

    def add_user_context(request: LLMRequest) -> LLMRequest:
        request.add_system_context(f"User: {request.session.get('user_name', 'User')}")
        return request

An interceptor is one callable or a list, sync or async; it may return the object it got
(or None, meaning the same). Request interceptors run once per run of the agent, before
its first model call; response interceptors run on each model reply. To stop and tell
the user why, raise `InterceptorError("message for the user", code=..., details=...)`.

`LLMRequest.messages` are dicts (`role`, `content`; an assistant's `tool_calls` and a
tool result's `tool_call_id` where they apply) and `tools` the agent's `Tool` objects;
`LLMResponse.tool_calls` are dicts `{"id", "name", "input"}`. Changes to any of them
reach the model call or the turn.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dcaf_cli.models.base import Message, ToolCall, ToolSpec
from dcaf_cli.session.session import Session


class InterceptorError(Exception):
    """Raised by an interceptor to block the request; `user_message` is shown to the user,
    `code` and `details` are for logs."""

    def __init__(
        self, user_message: str, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code
        self.details = details or {}

    def __str__(self) -> str:
        return f"[{self.code}] {self.user_message}" if self.code else self.user_message


@dataclass
class LLMRequest:
    """What the model is about to be sent. `system` may be set or added to."""

    messages: list[dict[str, Any]]
    tools: list[Any] = field(default_factory=list)
    system: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    session: Session = field(default_factory=Session)

    def get_latest_user_message(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return ""

    def add_system_context(self, text: str) -> None:
        """Append a paragraph to the system prompt for this run."""
        self.system = f"{self.system}\n\n{text}" if self.system else text


@dataclass
class LLMResponse:
    """One model reply: its text and the tool calls it asks for."""

    text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] | None = None
    raw: Any = None  # the reply as dcaf-cli's model layer gave it
    session: Session = field(default_factory=Session)
    context: dict[str, Any] = field(default_factory=dict)

    def has_tool_calls(self) -> bool:
        return bool(self.tool_calls)

    def get_text_length(self) -> int:
        return len(self.text or "")


# -- between these shapes and the model layer's ------------------------------------------


def message_dicts(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [_message_dict(m) for m in messages]


def _message_dict(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = call_dicts(message.tool_calls)
    if message.role == "tool":
        out.update(tool_call_id=message.tool_call_id, name=message.tool_name)
        out["is_error"] = message.is_error
    return out


def messages_from_dicts(messages: Sequence[Mapping[str, Any]]) -> list[Message]:
    out = []
    for m in messages:
        role = m.get("role")
        out.append(
            Message(
                role if role in ("assistant", "tool") else "user",
                str(m.get("content") or ""),
                tool_calls=calls_from_dicts(m.get("tool_calls") or []),
                tool_call_id=m.get("tool_call_id"),
                tool_name=m.get("name"),
                is_error=bool(m.get("is_error")),
            )
        )
    return out


def call_dicts(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    return [{"id": c.id, "name": c.name, "input": dict(c.arguments)} for c in calls]


def calls_from_dicts(calls: Sequence[Any]) -> list[ToolCall]:
    """Calls as an interceptor left them: dicts (`input` or `arguments`) or ToolCalls."""
    out = []
    for c in calls:
        if isinstance(c, ToolCall):
            out.append(c)
        else:
            arguments = c.get("input", c.get("arguments")) or {}
            out.append(ToolCall(str(c.get("id") or ""), str(c["name"]), dict(arguments)))
    return out


def tool_specs(tools: Sequence[Any]) -> list[ToolSpec]:
    """The request's tools, as an interceptor left them (Tool objects, specs or dicts)."""
    out = []
    for t in tools:
        if isinstance(t, ToolSpec):
            out.append(t)
        elif isinstance(t, Mapping):
            schema = t.get("input_schema") or t.get("parameters") or {}
            out.append(ToolSpec(str(t["name"]), str(t.get("description", "")), dict(schema)))
        else:
            out.append(ToolSpec(t.name, t.description, t.parameters))
    return out


async def intercept_request(
    interceptors: Sequence[Interceptor], request: LLMRequest, history: list[Message]
) -> tuple[str, list[ToolSpec], list[Message], dict[str, Any]]:
    """Run the request interceptors once (as DCAF does, once per run) on `request` with
    `history` as its messages: the system prompt, tools, messages and context they leave
    are what every model call of the run gets."""
    if not interceptors:
        return request.system or "", tool_specs(request.tools), history, request.context
    request.messages = message_dicts(history)
    request = await apply_interceptors(interceptors, request)
    history = messages_from_dicts(request.messages)
    return request.system or "", tool_specs(request.tools), history, request.context


T = TypeVar("T", LLMRequest, LLMResponse)
Interceptor = Callable[[Any], Any]
Interceptors = Interceptor | Sequence[Interceptor] | None


def as_list(interceptors: Interceptors) -> list[Interceptor]:
    if interceptors is None:
        return []
    if callable(interceptors):
        return [interceptors]
    return list(interceptors)


async def apply_interceptors(interceptors: Sequence[Interceptor], value: T) -> T:
    """Run each interceptor in order on `value`; InterceptorError propagates to block."""
    for interceptor in interceptors:
        result = interceptor(value)
        if inspect.isawaitable(result):
            result = await result
        if result is not None:
            if not isinstance(result, type(value)):
                name = getattr(interceptor, "__name__", repr(interceptor))
                raise TypeError(
                    f"interceptor {name} returned {type(result).__name__}, "
                    f"expected {type(value).__name__}"
                )
            value = result
    return value
