"""DCAF's published message and event schemas, as pydantic models, for checking answers.

Written from DCAF's protocol documentation (the HelpDesk protocol, the message protocol
guide and its schema reference): the fields each shape requires, their types, and the
ten stream event types. Strict: an `id` sent as a number, or a missing
`input_description`, fails, as it would in a client that validates with DCAF's models.
Extra fields are allowed where DCAF allows them (our `data.session`, `signature`, ...).
`to_dcaf(message)` is what a client that keeps only DCAF's fields sends back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

STRICT = ConfigDict(strict=True)


class FileObject(BaseModel):
    model_config = STRICT
    file_path: str
    file_content: str


class Command(BaseModel):
    model_config = STRICT
    command: str
    execute: bool = False
    rejection_reason: str | None = None
    files: list[FileObject] | None = None


class ExecutedCommand(BaseModel):
    model_config = STRICT
    command: str
    output: str


class ToolCall(BaseModel):
    model_config = STRICT
    id: str
    name: str
    input: dict[str, Any]
    execute: bool = False
    tool_description: str
    input_description: dict[str, Any]
    intent: str | None = None
    rejection_reason: str | None = None


class ExecutedToolCall(BaseModel):
    model_config = STRICT
    id: str
    name: str
    input: dict[str, Any]
    output: str | dict[str, Any]


class Approval(BaseModel):
    model_config = STRICT
    id: str
    type: str
    name: str
    input: dict[str, Any]
    execute: bool = False
    rejection_reason: str | None = None
    description: str = ""
    intent: str | None = None


class ExecutedApproval(BaseModel):
    model_config = STRICT
    id: str
    type: str
    name: str
    input: dict[str, Any]
    output: str


class Data(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    cmds: list[Command] = Field(default_factory=list)
    executed_cmds: list[ExecutedCommand] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    executed_tool_calls: list[ExecutedToolCall] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    executed_approvals: list[ExecutedApproval] = Field(default_factory=list)
    session: dict[str, Any] = Field(default_factory=dict)  # dcaf.core's Data has it


class Message(BaseModel):
    model_config = STRICT
    role: Literal["user", "assistant"]
    content: str = ""
    data: Data = Field(default_factory=Data)
    meta_data: dict[str, Any] = Field(default_factory=dict)


class UserMessage(Message):
    role: Literal["user"] = "user"
    platform_context: dict[str, Any] | None = None


class AgentMessage(Message):
    role: Literal["assistant"] = "assistant"


# -- stream events ------------------------------------------------------------------------


class TextDeltaEvent(BaseModel):
    model_config = STRICT
    type: Literal["text_delta"]
    text: str


class IntermittentUpdateEvent(BaseModel):
    model_config = STRICT
    type: Literal["intermittent_update"]
    text: str
    content: dict[str, Any] = Field(default_factory=dict)


class CommandsEvent(BaseModel):
    model_config = STRICT
    type: Literal["commands"]
    commands: list[Command]


class ToolCallsEvent(BaseModel):
    model_config = STRICT
    type: Literal["tool_calls"]
    tool_calls: list[ToolCall]


class ExecutedCommandsEvent(BaseModel):
    model_config = STRICT
    type: Literal["executed_commands"]
    executed_cmds: list[ExecutedCommand]


class ExecutedToolCallsEvent(BaseModel):
    model_config = STRICT
    type: Literal["executed_tool_calls"]
    executed_tool_calls: list[ExecutedToolCall]


class ApprovalsEvent(BaseModel):
    model_config = STRICT
    type: Literal["approvals"]
    approvals: list[Approval]


class ExecutedApprovalsEvent(BaseModel):
    model_config = STRICT
    type: Literal["executed_approvals"]
    executed_approvals: list[ExecutedApproval]


class DoneEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")  # ours adds `message`
    type: Literal["done"]
    stop_reason: str | None = None
    meta_data: dict[str, Any] = Field(default_factory=dict)


class ErrorEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")  # `code`; our `message`
    type: Literal["error"]
    error: str


Event = (
    TextDeltaEvent
    | IntermittentUpdateEvent
    | CommandsEvent
    | ToolCallsEvent
    | ExecutedCommandsEvent
    | ExecutedToolCallsEvent
    | ApprovalsEvent
    | ExecutedApprovalsEvent
    | DoneEvent
    | ErrorEvent
)
_EVENT = TypeAdapter(Event)


def check_message(value: Any) -> AgentMessage:
    """`value` as DCAF's `AgentMessage` (raises if it is not one)."""
    return AgentMessage.model_validate(value)


def check_event(value: Any) -> Event:
    """`value` as one of DCAF's stream events; its `type` must name it."""
    event = _EVENT.validate_python(value)
    assert event.type == value["type"]
    return event


def to_dcaf(message: dict[str, Any]) -> dict[str, Any]:
    """A message as a client that keeps only DCAF's fields sends it back: read with DCAF's
    models, written out again (our `signature`, `session`, `missing`... are gone)."""
    model = UserMessage if message["role"] == "user" else AgentMessage
    kept = model.model_validate(message).model_dump(mode="json", exclude={"data": {"__all__"}})
    data = Data.model_validate(message.get("data", {}))
    kept["data"] = data.model_dump(mode="json", exclude=set(data.model_extra or {}))
    return kept
