"""Models for runtime tests: one that records what it was asked, one that fails.

`RecordingModel` wraps another model (the offline one by default) and keeps a copy of
every request, so a test asserts what the model saw (a rejection reason, the system
prompt an interceptor extended) instead of inferring it from the reply.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from dcaf_cli.errors import ModelError
from dcaf_cli.models.base import Message, Model, ModelReply, ModelRequest, TextSink
from dcaf_cli.models.offline import OfflineModel


class RecordingModel:
    name = "recording"

    def __init__(self, inner: Model | None = None) -> None:
        self.inner: Model = inner if inner is not None else OfflineModel()
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        self.requests.append(copy.deepcopy(request))
        return await self.inner.complete(request, on_text)

    @property
    def last(self) -> ModelRequest:
        return self.requests[-1]

    def tool_results(self) -> list[Message]:
        """The tool results in the last request, as the model read them."""
        return [m for m in self.last.messages if m.role == "tool"]


class FailingModel:
    """Fails on every call, as a provider that is down."""

    name = "failing"

    def __init__(self, message: str = "the provider is down") -> None:
        self.message = message
        self.calls = 0

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        self.calls += 1
        raise ModelError(self.message)


def write_script(path: Path, replies: list[dict[str, Any]]) -> Path:
    """A `script:` model file holding `replies`."""
    path.write_text(json.dumps({"replies": replies}), encoding="utf-8")
    return path
