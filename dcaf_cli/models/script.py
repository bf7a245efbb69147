"""`script:FILE`: replays canned model turns, for keyless tests and demos.

The file (JSON, or YAML when PyYAML is installed) holds the model's replies in order;
each time the model is asked, it gives the next one:

    {"replies": [
        {"tool_calls": [{"name": "add_to_cart", "arguments": {"item": "Widget", "quantity": 2}}]},
        {"text": "Added 2 widgets to your cart."}
    ]}

A bare list of replies works too. `"expect": "substring"` on a reply checks that the last
user message contains it (a guard that the script and the conversation are in step).
Text is streamed word by word, as a real provider would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from dcaf_cli.errors import ModelError, UsageError
from dcaf_cli.models.base import ModelOptions, ModelReply, ModelRequest, TextSink, ToolCall, Usage
from dcaf_cli.session.text import one_line, validation_problems


class ScriptedCall(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptedReply(BaseModel):
    text: str = ""
    tool_calls: list[ScriptedCall] = Field(default_factory=list)
    expect: str | None = None
    error: str | None = None  # make the model fail here, to script error handling


class Script(BaseModel):
    replies: list[ScriptedReply]


def load_script(path: Path) -> Script:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read model script {path}: {exc.strerror or exc}") from None
    data = _parse(raw, path)
    if isinstance(data, list):
        data = {"replies": data}
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        problem = validation_problems(exc, "the top level")
        raise UsageError(f"model script {path}: {problem}") from None


def _parse(raw: str, path: Path) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise UsageError(
                f"{path} is YAML", hint="pip install 'dcaf-cli[yaml]', or write the script as JSON"
            ) from None
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            # The first line of a YAML error ("while parsing a flow node") says nothing on
            # its own: name the problem and where it is.
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise UsageError(
                one_line(f"model script {path} is not valid YAML: {problem}{where}")
            ) from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"model script {path} is not valid JSON: {exc.msg}"
            f" at line {exc.lineno} column {exc.colno}"
        ) from None


class ScriptModel:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"script:{path}"
        self.replies = load_script(path).replies
        self.position = 0

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        if self.position >= len(self.replies):
            raise ModelError(
                f"model script {self.path} has no reply left (it has {len(self.replies)})"
            )
        scripted = self.replies[self.position]
        self.position += 1
        if scripted.expect is not None:
            last_user = next(
                (m.content for m in reversed(request.messages) if m.role == "user"), ""
            )
            if scripted.expect.lower() not in last_user.lower():
                raise ModelError(
                    f"model script {self.path}: reply {self.position} expects a message with "
                    f"{scripted.expect!r}, got {last_user!r}"
                )
        if scripted.error:
            raise ModelError(scripted.error)
        if on_text is not None:
            for piece in re.findall(r"\S+\s*|\s+", scripted.text):
                on_text(piece)
        calls = [
            ToolCall(c.id or f"script-{self.position}-{i}", c.name, dict(c.arguments))
            for i, c in enumerate(scripted.tool_calls, 1)
        ]
        words = sum(len(m.content.split()) for m in request.messages)
        return ModelReply(scripted.text, calls, Usage(words, len(scripted.text.split())))


def create(spec: str, options: ModelOptions) -> ScriptModel:
    _, _, file = spec.partition(":")
    if not file:
        raise UsageError("script needs a file", hint="--model script:path/to/replies.json")
    return ScriptModel(Path(file))
