"""dcaf-cli: a terminal for session-based LLM agents.

The library API agent files import::

    from dcaf_cli import Agent, AgentResult, LLMRequest, LLMResponse, Session, tool

The names are imported on first use (PEP 562), so `import dcaf_cli.store` or `dcaf --help`
does not pay for the agent runtime and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dcaf_cli.runtime.agent import Agent, FunctionAgent
    from dcaf_cli.runtime.interceptors import InterceptorError, LLMRequest, LLMResponse
    from dcaf_cli.runtime.mcp import MCPTool
    from dcaf_cli.runtime.results import AgentResponse, AgentResult
    from dcaf_cli.session.session import Session, SessionValueError
    from dcaf_cli.tools.tool import Tool, tool

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "dcaf_cli.runtime.agent",
    "AgentResponse": "dcaf_cli.runtime.results",
    "AgentResult": "dcaf_cli.runtime.results",
    "FunctionAgent": "dcaf_cli.runtime.agent",
    "InterceptorError": "dcaf_cli.runtime.interceptors",
    "LLMRequest": "dcaf_cli.runtime.interceptors",
    "LLMResponse": "dcaf_cli.runtime.interceptors",
    "MCPTool": "dcaf_cli.runtime.mcp",
    "Session": "dcaf_cli.session.session",
    "SessionValueError": "dcaf_cli.session.session",
    "Tool": "dcaf_cli.tools.tool",
    "tool": "dcaf_cli.tools.tool",
}

__all__ = [
    "Agent",
    "AgentResponse",
    "AgentResult",
    "FunctionAgent",
    "InterceptorError",
    "LLMRequest",
    "LLMResponse",
    "MCPTool",
    "Session",
    "SessionValueError",
    "Tool",
    "__version__",
    "tool",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dcaf_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
