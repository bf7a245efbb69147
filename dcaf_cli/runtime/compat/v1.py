"""DCAF's v1 agents: an object with `invoke(messages) -> AgentMessage`, served in DCAF
with `create_chat_app(agent)`. Here it runs like any agent: it gets `{"messages": [...]}`
with the session in the last user message's `data.session` (and the run's context as its
`platform_context`), and its answer's session, tool calls and approvals come back as a
turn's.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Protocol

from dcaf_cli.runtime.agent import FunctionAgent
from dcaf_cli.runtime.remote_wire import to_response
from dcaf_cli.runtime.results import AgentResponse
from dcaf_cli.session.session import Session


class AgentProtocol(Protocol):
    """DCAF's v1 agent interface."""

    def invoke(self, messages: dict[str, list[dict[str, Any]]]) -> Any: ...


def is_v1_agent(obj: object) -> bool:
    return not inspect.isclass(obj) and callable(getattr(obj, "invoke", None))


class V1Agent(FunctionAgent):
    """A v1 agent object run as a custom agent function."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent

        def call(messages: list[dict[str, Any]], context: dict[str, Any], session: Session) -> Any:
            return agent.invoke({"messages": _with_session(messages, context, session)})

        super().__init__(call, name=type(agent).__name__)

    @property
    def model_name(self) -> str:
        return f"v1:{self.name}"

    def _response(self, result: object, live: Session) -> AgentResponse:
        dump = getattr(result, "model_dump", None)
        message = dump() if callable(dump) else result
        if isinstance(message, str):
            return AgentResponse(message, live)
        response = to_response(message, live)
        data = message.get("data") if isinstance(message, dict) else None
        session = data.get("session") if isinstance(data, dict) else None
        if isinstance(session, dict):
            live.replace_all(session)
        response.data.pop("session", None)
        return response


def _with_session(
    messages: list[dict[str, Any]], context: dict[str, Any], session: Session
) -> list[dict[str, Any]]:
    out = copy.deepcopy(messages)
    for message in reversed(out):
        if message.get("role") == "user":
            message.setdefault("data", {})["session"] = session.to_dict()
            if context:
                message.setdefault("platform_context", dict(context))
            break
    return out
