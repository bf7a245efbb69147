"""DCAF's v1 message schemas (`dcaf.schemas.messages`): the HelpDesk messages a v1 agent's
`invoke` receives and returns, with DCAF's field names."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgentMessage",
    "Command",
    "Data",
    "ExecutedCommand",
    "ExecutedToolCall",
    "FileObject",
    "Message",
    "Messages",
    "PlatformContext",
    "ToolCall",
    "UserMessage",
]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FileObject(_Open):
    file_path: str
    file_content: str
    refers_persistent_file: str | None = None


class Command(_Open):
    command: str
    execute: bool = False
    rejection_reason: str | None = None
    files: list[FileObject] | None = None


class ExecutedCommand(_Open):
    command: str
    output: str


class ToolCall(_Open):
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    execute: bool = False
    tool_description: str = ""
    input_description: dict[str, Any] = Field(default_factory=dict)
    intent: str | None = None
    rejection_reason: str | None = None


class ExecutedToolCall(_Open):
    id: str = ""
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    output: str | dict[str, Any] = ""


class PlatformContext(_Open):
    duplo_base_url: str | None = None
    duplo_token: str | None = None
    tenant_name: str | None = None
    aws_credentials: dict[str, Any] | None = None
    kubeconfig: str | None = None
    scopes: list[dict[str, Any]] = Field(default_factory=list)


class Data(_Open):
    """`session` travels here too (an extra field, as in DCAF)."""

    cmds: list[Command] = Field(default_factory=list)
    executed_cmds: list[ExecutedCommand] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    executed_tool_calls: list[ExecutedToolCall] = Field(default_factory=list)


class Message(_Open):
    role: Literal["user", "assistant"]
    content: str = ""
    data: Data = Field(default_factory=Data)
    meta_data: dict[str, Any] = Field(default_factory=dict)


class UserMessage(Message):
    role: Literal["user"] = "user"
    platform_context: PlatformContext | None = None


class AgentMessage(Message):
    role: Literal["assistant"] = "assistant"


class Messages(BaseModel):
    messages: list[UserMessage | AgentMessage]
