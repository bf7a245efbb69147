"""The modules and names DCAF agent files import, as dcaf-cli serves them.

A name dcaf-cli has no counterpart for fails at import with one line saying what to use
instead; so does any other `dcaf.*` module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OFFERED = "dcaf-cli offers Agent, tool, Session, serve and interceptors (see docs/tools.md)"
# Names DCAF exports that dcaf-cli deliberately does not offer, and what to use instead.
INSTEAD: dict[str, str] = {
    "emit_update": "progress shows as the turn's tool calls; remove the call",
    "emit": "progress shows as the turn's tool calls; remove the call",
    "load_agent_config": "choose the model with --model or DCAF_MODEL",
    "PlatformContext": "a tool's `platform_context: dict` parameter receives the context",
    "BedrockLLM": "use Agent(model=...) or --model bedrock:MODEL_ID",
    "ToolCallingAgent": "use Agent(tools=[...])",
    "ToolCallingCmdAgent": "use Agent(tools=[...])",
    "SlackResponseRouter": "dcaf serve has no channel routing",
    "ChannelResponseRouter": "dcaf serve has no channel routing",
}


def missing(module: str) -> Callable[[str], Any]:
    """A module `__getattr__` that fails with one line naming what dcaf-cli offers."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        hint = INSTEAD.get(name, OFFERED)
        raise ImportError(f"{module}.{name} is not available in dcaf-cli: {hint}")

    return __getattr__


def tables() -> dict[str, dict[str, Any]]:
    """Each stand-in module's names (imported here, when a file needs them)."""
    from dcaf_cli.runtime.compat import messages
    from dcaf_cli.runtime.compat.agent import DcafAgent
    from dcaf_cli.runtime.compat.chat import ChatMessage
    from dcaf_cli.runtime.compat.served import create_app, serve
    from dcaf_cli.runtime.compat.tools import create_tool, dcaf_tool
    from dcaf_cli.runtime.compat.v1 import AgentProtocol
    from dcaf_cli.runtime.interceptors import InterceptorError, LLMRequest, LLMResponse
    from dcaf_cli.runtime.mcp import MCPTool
    from dcaf_cli.runtime.results import AgentResponse, AgentResult, PendingToolCall
    from dcaf_cli.session.session import Session
    from dcaf_cli.tools.tool import Tool

    tools = {"tool": dcaf_tool, "Tool": Tool, "create_tool": create_tool}
    interceptors = {
        "LLMRequest": LLMRequest,
        "LLMResponse": LLMResponse,
        "InterceptorError": InterceptorError,
        "create_request_from_messages": _request,
        "create_response_from_text": _response,
    }
    v1 = {"create_chat_app": create_app, "AgentProtocol": AgentProtocol}
    schemas = {n: getattr(messages, n) for n in messages.__all__}
    core = {
        **tools,
        **interceptors,
        "Agent": DcafAgent,
        "AgentResponse": AgentResponse,
        "AgentResult": AgentResult,
        "PendingToolCall": PendingToolCall,
        "ChatMessage": ChatMessage,
        "Session": Session,
        "serve": serve,
        "create_app": create_app,
    }
    return {
        "dcaf": {**v1, **{n: schemas[n] for n in ("AgentMessage", "Messages", "ExecutedToolCall")}},
        "dcaf.core": core,
        "dcaf.core.agent": {n: core[n] for n in ("Agent", "AgentResponse", "PendingToolCall")},
        "dcaf.core.tools": tools,
        "dcaf.tools": tools,
        "dcaf.core.interceptors": interceptors,
        "dcaf.core.primitives": {"AgentResult": AgentResult},
        "dcaf.core.session": {"Session": Session},
        "dcaf.core.server": {"serve": serve, "create_app": create_app},
        "dcaf.core.models": {"ChatMessage": ChatMessage},
        "dcaf.agent_server": v1,
        "dcaf.schemas": {"messages": messages},
        "dcaf.schemas.messages": schemas,
        "dcaf.mcp": {"MCPTool": MCPTool},
        "dcaf.mcp.tools": {"MCPTool": MCPTool},
    }


def _request(
    messages: list[dict[str, Any]],
    tools: list[Any] | None = None,
    system_prompt: str | None = None,
    context: dict[str, Any] | None = None,
    session: Any = None,
) -> Any:
    from dcaf_cli.runtime.interceptors import LLMRequest
    from dcaf_cli.session.session import Session

    return LLMRequest(messages, tools or [], system_prompt, context or {}, session or Session())


def _response(
    text: str,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, int] | None = None,
    raw: Any = None,
    session: Any = None,
) -> Any:
    from dcaf_cli.runtime.interceptors import LLMResponse
    from dcaf_cli.session.session import Session

    return LLMResponse(text, tool_calls or [], usage, raw, session or Session())
