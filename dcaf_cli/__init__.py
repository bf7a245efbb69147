"""dcaf-cli: a terminal for session-based LLM agents.

The library API agent files import::

    from dcaf_cli import Agent, AgentResult, LLMRequest, LLMResponse, Session, tool
"""

from __future__ import annotations

from dcaf_cli.agent import Agent, FunctionAgent
from dcaf_cli.interceptors import InterceptorError, LLMRequest, LLMResponse
from dcaf_cli.results import AgentResponse, AgentResult
from dcaf_cli.session import Session, SessionValueError
from dcaf_cli.tools import Tool, tool

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentResponse",
    "AgentResult",
    "FunctionAgent",
    "InterceptorError",
    "LLMRequest",
    "LLMResponse",
    "Session",
    "SessionValueError",
    "Tool",
    "__version__",
    "tool",
]
