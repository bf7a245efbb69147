"""Serve the DCAF framework's imports when the real `dcaf` package is not installed.

Agent files written for DCAF (`from dcaf.core import Session, Agent`, `from dcaf.tools
import tool`, `from dcaf.core.primitives import AgentResult`) then run unchanged. A call
to `dcaf.core.serve(agent)` at import time only records the agent while dcaf loads the
file, and the loader uses it when the file defines no `agent`; `dcaf serve FILE` serves
it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

served: list[Any] = []


def serve(agent: Any, *args: Any, **kwargs: Any) -> None:
    """DCAF's `serve()`: note the agent for the loader (dcaf does the serving)."""
    served.append(agent)


def install() -> None:
    """Register `dcaf`, `dcaf.core`, `dcaf.tools`, `dcaf.core.primitives` if absent."""
    if "dcaf" in sys.modules or importlib.util.find_spec("dcaf") is not None:
        return
    from dcaf_cli.runtime.agent import Agent
    from dcaf_cli.runtime.interceptors import InterceptorError, LLMRequest, LLMResponse
    from dcaf_cli.runtime.results import AgentResult
    from dcaf_cli.session.session import Session
    from dcaf_cli.tools.tool import tool

    modules: dict[str, dict[str, Any]] = {
        "dcaf": {},
        "dcaf.core": {
            "Session": Session,
            "Agent": Agent,
            "LLMRequest": LLMRequest,
            "LLMResponse": LLMResponse,
            "InterceptorError": InterceptorError,
            "AgentResult": AgentResult,
            "serve": serve,
            "tool": tool,
        },
        "dcaf.tools": {"tool": tool},
        "dcaf.core.primitives": {"AgentResult": AgentResult},
        "dcaf.core.session": {"Session": Session},
    }
    for name, attrs in modules.items():
        module = ModuleType(name, "dcaf_cli's stand-in for the DCAF framework")
        module.__path__ = []
        module.__dict__.update(attrs)
        sys.modules[name] = module
    sys.modules["dcaf"].core = sys.modules["dcaf.core"]  # type: ignore[attr-defined]
    sys.modules["dcaf"].tools = sys.modules["dcaf.tools"]  # type: ignore[attr-defined]
    sys.modules["dcaf.core"].primitives = sys.modules["dcaf.core.primitives"]  # type: ignore[attr-defined]
