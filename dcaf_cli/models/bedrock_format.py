"""The Converse API's wire format: our messages and tools in, replies and stream events out.

Pure data conversion, no boto3: `bedrock.py` makes the calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from dcaf_cli.errors import ModelError
from dcaf_cli.models.base import (
    Message,
    ModelOptions,
    ModelReply,
    ModelRequest,
    ToolCall,
    ToolSpec,
    Usage,
)
from dcaf_cli.models.common import alternating_turns

Role = Literal["user", "assistant"]
Json = dict[str, Any]
Put = Callable[[str | None], None]


def converse_args(model_id: str, request: ModelRequest, options: ModelOptions) -> Json:
    """The keyword arguments of boto3's `converse` and `converse_stream` for `request`."""
    call: Json = {"modelId": model_id, "messages": to_messages(request.messages)}
    if request.system:
        call["system"] = [{"text": request.system}]
    if request.tools:
        call["toolConfig"] = {"tools": [to_tool(spec) for spec in request.tools]}
    inference: Json = {}
    if options.max_tokens is not None:
        inference["maxTokens"] = options.max_tokens
    if options.temperature is not None:
        inference["temperature"] = options.temperature
    if inference:
        call["inferenceConfig"] = inference
    return call


def to_tool(spec: ToolSpec) -> Json:
    tool: Json = {"name": spec.name, "inputSchema": {"json": spec.parameters}}
    if spec.description:  # Bedrock rejects an empty description
        tool["description"] = spec.description
    return {"toolSpec": tool}


def to_messages(messages: list[Message]) -> list[Json]:
    """Provider-neutral messages as Converse turns, alternating user and assistant."""
    turns = alternating_turns(map(_blocks, messages))
    return [{"role": role, "content": blocks} for role, blocks in turns]


def _blocks(message: Message) -> tuple[Role, list[Json]]:
    if message.role == "tool":
        result: Json = {
            "toolUseId": message.tool_call_id or "",
            "content": [{"text": message.content}],
        }
        if message.is_error:  # only set when needed: not every model knows the field
            result["status"] = "error"
        return "user", [{"toolResult": result}]
    # Converse rejects blank text blocks: an assistant turn may be tool calls only.
    blocks: list[Json] = [{"text": message.content}] if message.content.strip() else []
    for call in message.tool_calls:
        blocks.append(
            {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}
        )
    return message.role, blocks


def reply_from_converse(response: Json) -> ModelReply:
    content = response.get("output", {}).get("message", {}).get("content", [])
    text = "".join(block["text"] for block in content if "text" in block)
    calls = [
        ToolCall(str(use["toolUseId"]), str(use["name"]), dict(use.get("input") or {}))
        for use in (block["toolUse"] for block in content if "toolUse" in block)
    ]
    return ModelReply(text=text, tool_calls=calls, usage=_usage(response.get("usage", {})))


def _usage(usage: Json) -> Usage:
    return Usage(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)))


@dataclass
class _PartialCall:
    id: str
    name: str
    fragments: list[str] = field(default_factory=list)


class StreamReply:
    """Folds ConverseStream events into a reply, passing text deltas on as they come."""

    def __init__(self, put: Put) -> None:
        self.put = put
        self.text: list[str] = []
        self.calls: dict[int, _PartialCall] = {}
        self.usage = Usage()
        self.stop_reason: str | None = None

    def add(self, event: Json) -> None:
        if "contentBlockStart" in event:
            start = event["contentBlockStart"]
            if "toolUse" in start["start"]:
                use = start["start"]["toolUse"]
                self.calls[start["contentBlockIndex"]] = _PartialCall(use["toolUseId"], use["name"])
        elif "contentBlockDelta" in event:
            self._delta(event["contentBlockDelta"])
        elif "messageStop" in event:
            self.stop_reason = event["messageStop"].get("stopReason")
        elif "metadata" in event:
            self.usage = _usage(event["metadata"].get("usage", {}))

    def _delta(self, event: Json) -> None:
        delta = event["delta"]
        if delta.get("text"):
            self.text.append(delta["text"])
            self.put(delta["text"])
        elif "toolUse" in delta and event["contentBlockIndex"] in self.calls:
            self.calls[event["contentBlockIndex"]].fragments.append(delta["toolUse"]["input"])

    def build(self) -> ModelReply:
        calls = [self._call(self.calls[index]) for index in sorted(self.calls)]
        return ModelReply(text="".join(self.text), tool_calls=calls, usage=self.usage)

    def _call(self, partial: _PartialCall) -> ToolCall:
        raw = "".join(partial.fragments).strip() or "{}"
        try:
            arguments = json.loads(raw)
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            cut = " (cut off by max_tokens: raise it)" if self.stop_reason == "max_tokens" else ""
            raise ModelError(f"bedrock: the model sent malformed arguments for {partial.name}{cut}")
        return ToolCall(partial.id, partial.name, arguments)
