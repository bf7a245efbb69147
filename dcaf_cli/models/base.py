"""The one small interface every model implements, and the provider-neutral messages.

A model gets the conversation (system prompt, messages, tool specs) and returns one reply:
text, tool calls, or both. It streams text by calling `on_text` with each delta as it
arrives; the full text is in the reply either way. Providers raise `ModelError` with one
line a user can act on (authentication, throttling, unknown model, network, bad reply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

TextSink = Callable[[str], None]


@dataclass(slots=True)
class ToolCall:
    """A call the model wants to make. `id` is the provider's, or one we made up."""

    id: str
    name: str
    arguments: dict[str, Any]


# What a tool result says when the user rejected the call: the model reads it as the result.
NOT_RUN = "The user did not run this call: "


@dataclass(slots=True)
class Message:
    """One conversation item, the same for every provider.

    user: `content`. assistant: `content` and/or `tool_calls`. tool: the result of the
    call `tool_call_id` (named `tool_name`) in `content`, `is_error` when it failed.
    """

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model is told about a tool: the JSON schema of its parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class ModelRequest:
    system: str
    messages: list[Message]
    tools: list[ToolSpec]


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass(slots=True)
class ModelReply:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    # The offline model sets this when it picked a tool from free text but could not fill
    # every required argument: the runtime then pauses and asks the user for them.
    ask_missing: bool = False


@runtime_checkable
class Model(Protocol):
    """A chat model. `name` is the spec it was made from, e.g. `openai:gpt-4o-mini`."""

    name: str

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        """One model reply to the conversation in `request`."""
        ...


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """Settings from flags; `None` means the provider's usual environment or default."""

    base_url: str | None = None
    api_key: str | None = None
    region: str | None = None
    profile: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
