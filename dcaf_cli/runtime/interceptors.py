"""Request and response interceptors: code that sees (and may change) every model call.

    def add_user_context(request: LLMRequest) -> LLMRequest:
        request.add_system_context(f"User: {request.session.get('user_name', 'User')}")
        return request

An interceptor is one callable or a list, sync or async; it may return the object it got
(or None, meaning the same). To stop a request and tell the user why, raise
`InterceptorError("message for the user")`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dcaf_cli.models.base import Message, ToolCall, ToolSpec
from dcaf_cli.session.session import Session


class InterceptorError(Exception):
    """Raised by an interceptor to block the request; `user_message` is shown to the user."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(slots=True)
class LLMRequest:
    messages: list[Message]
    tools: list[ToolSpec]
    system_prompt: str
    session: Session
    context: dict[str, Any] = field(default_factory=dict)
    system_context: list[str] = field(default_factory=list)

    def add_system_context(self, text: str) -> None:
        """Append a line to the system prompt for this request."""
        self.system_context.append(text)

    @property
    def system(self) -> str:
        return "\n\n".join(p for p in (self.system_prompt, *self.system_context) if p)


@dataclass(slots=True)
class LLMResponse:
    text: str
    tool_calls: list[ToolCall]
    session: Session
    usage: dict[str, int] | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def has_tool_calls(self) -> bool:
        return bool(self.tool_calls)


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
