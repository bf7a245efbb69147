"""Agents for the server and remote-agent tests.

`counted_deploy()` is the deploy example with its approval tool wrapped so every real run
is recorded (`RUNS`): "the tool did not run" is then checked, not inferred.
"""

from __future__ import annotations

import json
from typing import Any

from dcaf_cli import Agent, AgentResult, FunctionAgent, Session, tool
from dcaf_cli.examples import deploy

RUNS: list[dict[str, Any]] = []


@tool(requires_approval=True, description="Execute the deployment", name="execute_deployment")
def counted_execute_deployment(session: Session) -> str:
    """Execute the pending deployment (requires approval)."""
    RUNS.append(session.to_dict())
    return deploy.execute_deployment(session)


def counted_deploy() -> Agent:
    tools = [deploy.start_deployment, deploy.add_service, counted_execute_deployment]
    return Agent(tools=tools, name="deploy")


def echo_context(
    messages: list[dict[str, Any]], context: dict[str, Any], session: Session
) -> AgentResult:
    """Replies with the context it was given, as JSON."""
    return AgentResult(text=json.dumps(context, sort_keys=True))


def failing(messages: list[dict[str, Any]], context: dict[str, Any], session: Session) -> str:
    """Changes the session, then fails: the server must return the session unchanged."""
    session.set("half", "applied")
    raise RuntimeError("the agent fell over")


def echo_agent() -> FunctionAgent:
    return FunctionAgent(echo_context, name="echo")


def failing_agent() -> FunctionAgent:
    return FunctionAgent(failing, name="failing")
