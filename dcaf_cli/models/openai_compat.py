"""OpenAI-compatible chat completions (`openai:MODEL`, `ollama:MODEL`) via the `openai` SDK.

Replies are streamed: text deltas go to `on_text` as they arrive, tool-call fragments are
put together by index. Every failure the SDK or the server can produce becomes one
`ModelError` line naming the server and what to do. A client is made per reply and closed
after it, so a model object works across event loops (`asyncio.run` per turn).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import openai
from openai.types.chat import ChatCompletionChunk as Chunk
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from dcaf_cli import settings
from dcaf_cli.errors import CredentialsError, ModelError, UsageError
from dcaf_cli.models.base import (
    Message,
    ModelOptions,
    ModelReply,
    ModelRequest,
    TextSink,
    ToolCall,
    Usage,
)
from dcaf_cli.models.common import CUT_SHORT, server_message
from dcaf_cli.session.redact import remember_secret
from dcaf_cli.session.text import shorten

OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434"
NO_KEY = "no-key"  # local servers ignore the key, but the SDK insists on one
MISSING_KEY = (
    "set OPENAI_API_KEY or pass --api-key (or --base-url for a local server that needs no key)"
)
USAGE = {"include_usage": True}  # ask for token counts in the last streamed chunk


@dataclass(slots=True)
class OpenAICompatModel:
    """A chat model behind an OpenAI-compatible `/chat/completions` endpoint."""

    name: str
    model: str
    base_url: str
    api_key: str = field(repr=False)
    options: ModelOptions = field(default_factory=ModelOptions, repr=False)
    max_retries: int = settings.DEFAULT_RETRIES
    timeout: float = settings.DEFAULT_TIMEOUT

    @property
    def provider(self) -> str:
        return self.name.split(":", 1)[0]

    def check_reachable(self) -> None:
        """Fail now, in one line, if nothing answers at `base_url` (`/model ollama:x` with
        no server running says so as the model is chosen, not at the next turn)."""
        client = openai.OpenAI(
            api_key=self.api_key, base_url=self.base_url, max_retries=0, timeout=5.0
        )
        try:
            with client:
                client.models.list()
        except openai.APIConnectionError as exc:  # a timeout is one too
            raise describe_error(exc, self) from None
        except openai.APIError:
            return  # it answered: whatever it said, a server is there

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        client = openai.AsyncOpenAI(
            api_key=self.api_key,
            base_url=self.base_url,
            max_retries=self.max_retries,
            timeout=openai.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
        )
        try:
            async with client:
                stream = await client.chat.completions.create(
                    model=self.model, stream=True, **self._params(request)
                )
                async with stream:
                    return await self._read(stream, on_text)
        except openai.APIError as exc:
            raise _redact(describe_error(exc, self), self.api_key) from exc
        except json.JSONDecodeError as exc:
            raise _malformed(self, f"a chunk is not JSON ({exc})") from exc

    async def _read(
        self, stream: openai.AsyncStream[Chunk], on_text: TextSink | None
    ) -> ModelReply:
        builder = _ReplyBuilder()
        async for chunk in stream:
            try:
                delta = builder.add(chunk)
            except (AttributeError, TypeError, ValueError) as exc:
                raise _malformed(self, f"unexpected chunk ({exc})") from exc
            if delta and on_text is not None:
                on_text(delta)
        if builder.chunks == 0:
            raise _malformed(self, "no streamed chunks (does it support stream=true?)")
        if not builder.finished:  # the connection dropped mid-reply: not a whole answer
            raise ModelError(f"{self.provider}: {CUT_SHORT}", hint="try the turn again")
        return builder.reply()

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"messages": to_messages(request), "stream_options": USAGE}
        if request.tools:
            params["tools"] = to_tools(request)
        if self.options.temperature is not None:
            params["temperature"] = self.options.temperature
        if self.options.max_tokens is not None:
            # OpenAI's own API wants the new name; other servers know only the old one.
            key = "max_completion_tokens" if self.base_url == OPENAI_URL else "max_tokens"
            params[key] = self.options.max_tokens
        return params


def create(spec: str, options: ModelOptions) -> OpenAICompatModel:
    """Build the model for `openai:MODEL` or `ollama:MODEL` (the registry's entry point)."""
    prefix, _, model = spec.partition(":")
    if not model.strip():
        example = "ollama:llama3.2" if prefix == "ollama" else "openai:gpt-4o-mini"
        raise UsageError(f"{spec!r} names no model", hint=f"e.g. {example}")
    if prefix == "ollama":
        base_url = options.base_url or _ollama_url(os.environ.get("OLLAMA_HOST"))
        api_key = options.api_key or "ollama"
    else:
        base_url = options.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL
        api_key = options.api_key or os.environ.get("OPENAI_API_KEY") or ""
        remember_secret(api_key)
        if not api_key and base_url.rstrip("/") == OPENAI_URL:
            raise CredentialsError(
                "openai: no API key",
                "OPENAI_API_KEY",
                "--api-key (or --base-url for a local server that needs no key)",
            )
    return OpenAICompatModel(
        name=spec,
        model=model.strip(),
        base_url=base_url.rstrip("/"),
        api_key=api_key or NO_KEY,
        options=options,
        max_retries=settings.max_retries(),
        timeout=settings.timeout(),
    )


def _ollama_url(host: str | None) -> str:
    """`OLLAMA_HOST` as Ollama reads it (`host:port`, maybe a scheme), plus `/v1`."""
    url = (host or "").strip().rstrip("/") or OLLAMA_URL
    if "://" not in url:
        url = f"http://{url}"
    return url if url.endswith("/v1") else f"{url}/v1"


def to_messages(request: ModelRequest) -> list[ChatCompletionMessageParam]:
    """The conversation in chat-completions form, system prompt first."""
    messages: list[ChatCompletionMessageParam] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.extend(_to_message(message) for message in request.messages)
    return messages


def _to_message(message: Message) -> ChatCompletionMessageParam:
    if message.role == "user":
        return {"role": "user", "content": message.content}
    if message.role == "tool":
        # Chat completions has no error flag on a tool result, so say it in the content.
        content = f"error: {message.content}" if message.is_error else message.content
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": content}
    if not message.tool_calls:
        return {"role": "assistant", "content": message.content}
    return {
        "role": "assistant",
        "content": message.content or None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ],
    }


def to_tools(request: ModelRequest) -> list[ChatCompletionToolParam]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in request.tools
    ]


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _ReplyBuilder:
    text: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    usage: Usage | None = None
    chunks: int = 0
    finished: bool = False  # a choice said why it stopped: the reply is whole

    def add(self, chunk: Chunk) -> str:
        """Take in one chunk; return its text delta ('' when none)."""
        self.chunks += 1
        if chunk.usage is not None:
            self.usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
        delta_text = ""
        for choice in chunk.choices or []:
            self.finished = self.finished or choice.finish_reason is not None
            delta = choice.delta
            if delta.content:
                delta_text += delta.content
            for position, part in enumerate(delta.tool_calls or []):
                # Some servers leave out `index`; then each part is a call of its own.
                index = part.index if isinstance(part.index, int) else len(self.calls) + position
                call = self.calls.setdefault(index, _PartialCall())
                call.id = part.id or call.id
                if part.function is not None:
                    call.name = call.name or part.function.name or ""
                    call.arguments.append(part.function.arguments or "")
        self.text.append(delta_text)
        return delta_text

    def reply(self) -> ModelReply:
        calls = [_finish_call(i, self.calls[i]) for i in sorted(self.calls)]
        return ModelReply(text="".join(self.text), tool_calls=calls, usage=self.usage)


def _finish_call(index: int, call: _PartialCall) -> ToolCall:
    if not call.name:
        raise ModelError("the model sent a tool call without a tool name")
    raw = "".join(call.arguments).strip()
    try:
        arguments = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        what = "not JSON" if arguments is None else "not a JSON object"
        raise ModelError(
            f"the model sent arguments for {call.name} that are {what}: {shorten(raw, 160)}"
        )
    return ToolCall(id=call.id or f"call_{index}", name=call.name, arguments=arguments)


def describe_error(exc: openai.APIError, model: OpenAICompatModel) -> ModelError:
    """One line a user can act on, for any error the `openai` SDK raises."""
    provider, base_url, timeout = model.provider, model.base_url, model.timeout
    at = f"at {base_url}"
    if isinstance(exc, openai.APITimeoutError):
        hint = "try again, or raise DCAF_TIMEOUT"
        return ModelError(f"{provider}: no reply from {base_url} within {timeout:g}s", hint=hint)
    if isinstance(exc, openai.APIConnectionError):
        hint = "is Ollama running? (ollama serve)" if provider == "ollama" else "check --base-url"
        return ModelError(f"{provider}: cannot connect to {base_url}", hint=hint)
    if not isinstance(exc, openai.APIStatusError):  # an error event mid-stream, a bad body
        return ModelError(f"{provider}: error from {base_url}: {_server_message(exc)}")
    status, detail = exc.status_code, _server_message(exc)
    if isinstance(exc, openai.AuthenticationError):
        key = "OPENAI_API_KEY or --api-key" if provider == "openai" else "--api-key"
        return ModelError(f"{provider}: authentication failed ({status}) {at}", hint=f"check {key}")
    if isinstance(exc, openai.NotFoundError):
        hint = f"ollama pull {model.model}" if provider == "ollama" else "check the model and URL"
        return ModelError(f"{provider}: model {model.model!r} not found ({status}) {at}", hint=hint)
    if isinstance(exc, openai.RateLimitError):
        return ModelError(f"{provider}: rate limited ({status}) {at}", hint="wait and retry")
    if status >= 500:
        return ModelError(f"{provider}: server error ({status}) {at}: {detail}")
    return ModelError(f"{provider}: request rejected ({status}) {at}: {detail}")


def _server_message(exc: openai.APIError) -> str:
    message = exc.body.get("message") if isinstance(exc.body, Mapping) else exc.body
    if not isinstance(message, str) or not message.strip():
        message = exc.message
    return server_message(message)


def _redact(error: ModelError, api_key: str) -> ModelError:
    """Never echo a real key (not a placeholder) that a server quoted back."""
    if len(api_key) < 12 or api_key not in error.message:
        return error
    return ModelError(error.message.replace(api_key, "***"), hint=error.hint)


def _malformed(model: OpenAICompatModel, what: str) -> ModelError:
    return ModelError(f"{model.provider}: malformed reply from {model.base_url}: {what}")
