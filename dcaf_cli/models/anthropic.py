"""`anthropic:MODEL`: Anthropic's Messages API through the official `anthropic` SDK, streamed.

The key and base URL come from the options or the SDK's usual environment
(`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`). Every failure becomes a `ModelError` with one
line saying what to do; the key never appears in it.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

import anthropic
from anthropic.types import (
    AssistantMessageParam,
    ContentBlockParam,
    MessageParam,
    RawMessageStreamEvent,
    ToolParam,
    UserMessageParam,
)

from dcaf_cli import settings
from dcaf_cli.errors import CredentialsError, ModelError, UsageError
from dcaf_cli.models.base import (
    Message,
    ModelOptions,
    ModelReply,
    ModelRequest,
    TextSink,
    ToolCall,
    ToolSpec,
    Usage,
)
from dcaf_cli.models.common import (
    CUT_SHORT,
    alternating_turns,
    origin,
    server_message,
)
from dcaf_cli.session.redact import remember_secret

DEFAULT_MAX_TOKENS = 4096
_NO_KEY = "Could not resolve authentication method"  # the SDK's TypeError when no key is set

Role = Literal["user", "assistant"]


def create(spec: str, options: ModelOptions) -> AnthropicModel:
    model_id = spec.partition(":")[2].strip()
    if not model_id:
        raise UsageError("anthropic: no model named", hint="use anthropic:MODEL")
    _check_key(options)
    return AnthropicModel(spec, model_id, options)


def _check_key(options: ModelOptions) -> None:
    """Before any turn, as for every provider: a key, a token, or a profile the user chose."""
    found = options.api_key or os.environ.get("ANTHROPIC_API_KEY")
    if found or os.environ.get("ANTHROPIC_AUTH_TOKEN") or os.environ.get("ANTHROPIC_PROFILE"):
        return
    raise CredentialsError("anthropic: no API key", "ANTHROPIC_API_KEY", "--api-key")


def _transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library's network errors, which escape the SDK when a stream breaks.

    This SDK is built on httpx2 (older ones on httpx); whichever it imported is loaded.
    """
    modules = (sys.modules.get(name) for name in ("httpx2", "httpx"))
    return tuple(module.TransportError for module in modules if module is not None)


class AnthropicModel:
    def __init__(self, name: str, model_id: str, options: ModelOptions) -> None:
        self.name = name
        self.model_id = model_id
        self.options = options
        remember_secret(options.api_key or os.environ.get("ANTHROPIC_API_KEY"))
        self.max_retries = settings.max_retries()
        self.timeout = settings.timeout()

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        try:
            # A client per call: its connection pool belongs to the running event loop,
            # and the sync agent runs each turn in a fresh loop.
            client = anthropic.AsyncAnthropic(
                api_key=self.options.api_key,
                base_url=self.options.base_url,
                max_retries=self.max_retries,
                timeout=anthropic.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            )
            async with client:
                return await self._stream(client, request, on_text)
        except Exception as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc

    def _translate(self, exc: Exception) -> ModelError | None:
        """The one line for a failure of the SDK or the network; None for our own bugs."""
        if isinstance(exc, anthropic.APIError):
            return ModelError(f"anthropic: {self._explain(exc)}")
        if isinstance(exc, _transport_errors()):  # the SDK lets these escape a stream
            return ModelError(f"anthropic: the stream broke ({type(exc).__name__}) — try again")
        if isinstance(exc, json.JSONDecodeError):  # an event that is not JSON
            return ModelError("anthropic: the server sent a malformed stream — check the base URL")
        no_key = isinstance(exc, TypeError) and _NO_KEY in str(exc)
        if no_key or isinstance(exc, anthropic.CredentialsError):
            # Without a key the SDK looks for a profile on disk: a missing one means no key,
            # unless the user chose the profile.
            chosen = os.environ.get("ANTHROPIC_PROFILE") and not no_key
            what = server_message(str(exc)) if chosen else "no API key"
            return ModelError(f"anthropic: {what} — set ANTHROPIC_API_KEY or pass --api-key")
        return None

    async def _stream(
        self, client: anthropic.AsyncAnthropic, request: ModelRequest, on_text: TextSink | None
    ) -> ModelReply:
        temperature = self.options.temperature
        stream = await client.messages.create(
            model=self.model_id,
            max_tokens=self.options.max_tokens or DEFAULT_MAX_TOKENS,
            system=request.system or anthropic.omit,
            messages=to_messages(request.messages),
            tools=[to_tool(spec) for spec in request.tools] or anthropic.omit,
            stream=True,
            # This SDK version has no `temperature` argument; the API still takes it.
            extra_body=None if temperature is None else {"temperature": temperature},
        )
        reply = _ReplyBuilder(on_text)
        async with stream:
            async for event in stream:
                reply.add(event)
        if not reply.stopped:  # the connection dropped mid-reply: not a whole answer
            raise ModelError(f"anthropic: {CUT_SHORT}", hint="try the turn again")
        return reply.build()

    def _explain(self, exc: anthropic.APIError) -> str:
        where = origin(str(exc.request.url))
        if isinstance(exc, anthropic.APITimeoutError):
            return f"timed out waiting for {where} — try again, or raise DCAF_TIMEOUT"
        if isinstance(exc, anthropic.APIConnectionError):
            return f"cannot reach {where} — check your network or ANTHROPIC_BASE_URL"
        if isinstance(exc, anthropic.APIStatusError):
            return _status_line(exc, self.model_id)
        return f"{type(exc).__name__}: {server_message(str(exc))}"


def _status_line(exc: anthropic.APIStatusError, model_id: str) -> str:
    """One line for an HTTP error or an `error` event in the stream (status 200 then)."""
    kind = exc.type or ""
    status = exc.status_code
    if kind == "authentication_error" or status == 401:
        return "authentication failed (401) — check ANTHROPIC_API_KEY or --api-key"
    if kind == "permission_error" or status == 403:
        return f"permission denied for model {model_id!r} (403) — check your key's access"
    if kind == "not_found_error" or status == 404:
        return f"unknown model {model_id!r} or wrong base URL (404) — check the model name"
    if kind == "rate_limit_error" or status == 429:
        return "rate limited (429) — wait a moment and try again"
    if kind == "overloaded_error" or status == 529:
        return "the API is overloaded (529) — try again in a moment"
    if status >= 500 or kind == "api_error":
        return f"server error ({status}) — try again later"
    detail = server_message(exc.api_message or kind or "")
    return f"request rejected ({status}): {detail}"


def to_tool(spec: ToolSpec) -> ToolParam:
    return {"name": spec.name, "description": spec.description, "input_schema": spec.parameters}


def to_messages(messages: list[Message]) -> list[MessageParam]:
    """Provider-neutral messages as Messages API turns, alternating user and assistant."""
    return [_turn(role, blocks) for role, blocks in alternating_turns(map(_blocks, messages))]


def _turn(role: Role, blocks: list[ContentBlockParam]) -> MessageParam:
    if role == "user":
        return UserMessageParam(role="user", content=blocks)
    return AssistantMessageParam(role="assistant", content=blocks)


def _blocks(message: Message) -> tuple[Role, list[ContentBlockParam]]:
    if message.role == "tool":
        result: ContentBlockParam = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id or "",
            "content": message.content,
            "is_error": message.is_error,
        }
        return "user", [result]
    # The API rejects empty text blocks: an assistant turn may be tool calls only.
    blocks: list[ContentBlockParam] = []
    if message.content.strip():
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        )
    return message.role, blocks


@dataclass
class _PartialCall:
    id: str
    name: str
    start_input: dict[str, Any]
    fragments: list[str] = field(default_factory=list)


class _ReplyBuilder:
    """Folds the stream's events into a reply, passing text deltas on as they come."""

    def __init__(self, on_text: TextSink | None) -> None:
        self.on_text = on_text
        self.text: list[str] = []
        self.calls: dict[int, _PartialCall] = {}
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.stopped = False  # `message_stop` came: the reply is whole

    def add(self, event: RawMessageStreamEvent) -> None:
        if event.type == "message_stop":
            self.stopped = True
        elif event.type == "message_start":
            self.usage.input_tokens = event.message.usage.input_tokens
            self.usage.output_tokens = event.message.usage.output_tokens
        elif event.type == "content_block_start":
            block = event.content_block
            if block.type == "text":
                self._say(block.text)
            elif block.type == "tool_use":
                self.calls[event.index] = _PartialCall(block.id, block.name, dict(block.input))
        elif event.type == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                self._say(delta.text)
            elif delta.type == "input_json_delta" and event.index in self.calls:
                self.calls[event.index].fragments.append(delta.partial_json)
        elif event.type == "message_delta":
            # Counts in message_delta are cumulative, so they replace the start's.
            self.usage.output_tokens = event.usage.output_tokens
            if event.usage.input_tokens is not None:
                self.usage.input_tokens = event.usage.input_tokens
            self.stop_reason = event.delta.stop_reason

    def _say(self, text: str) -> None:
        if text:
            self.text.append(text)
            if self.on_text is not None:
                self.on_text(text)

    def build(self) -> ModelReply:
        calls = [self._call(self.calls[index]) for index in sorted(self.calls)]
        return ModelReply(text="".join(self.text), tool_calls=calls, usage=self.usage)

    def _call(self, partial: _PartialCall) -> ToolCall:
        raw = "".join(partial.fragments)
        if not raw.strip():
            return ToolCall(partial.id, partial.name, partial.start_input)
        try:
            arguments = json.loads(raw)
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            cut = " (cut off by max_tokens: raise it)" if self.stop_reason == "max_tokens" else ""
            raise ModelError(
                f"anthropic: the model sent malformed arguments for {partial.name}{cut}"
            )
        return ToolCall(partial.id, partial.name, arguments)
