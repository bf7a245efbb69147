"""Agents for the server and remote-agent tests.

`counted_deploy()` is the deploy example with its approval tool wrapped so every real run
is recorded (`RUNS`): "the tool did not run" is then checked, not inferred.
`failing_launch()` has one approval tool, which is counted and then fails.
`WORKER_DEPLOY` is the deploy example for a multi-worker `dcaf serve` in a subprocess
(spec `tests/fakes/server_agents.py:WORKER_DEPLOY`): `/whoami` and the deployment's
output name the worker process that answered.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dcaf_cli import Agent, AgentResult, FunctionAgent, Session, tool
from dcaf_cli.examples import deploy
from dcaf_cli.runtime.interceptors import InterceptorError

RUNS: list[dict[str, Any]] = []


@tool(requires_approval=True, description="Execute the deployment", name="execute_deployment")
def counted_execute_deployment(session: Session) -> str:
    """Execute the pending deployment (requires approval)."""
    RUNS.append(session.to_dict())
    return deploy.execute_deployment(session)


def counted_deploy() -> Agent:
    return Agent(
        tools=[deploy.start_deployment, deploy.add_service, counted_execute_deployment],
        name="deploy",
    )


@tool(requires_approval=True, description="Launch the rocket")
def launch(session: Session) -> str:
    """Launch the rocket (requires approval); it always fails."""
    RUNS.append(session.to_dict())
    raise RuntimeError("the launch pad is on fire")


def failing_launch() -> Agent:
    return Agent(tools=[launch], name="launch")


@tool(description="The worker process answering this request")
def whoami() -> str:
    """The worker process answering this request."""
    return f"worker {os.getpid()}"


@tool(requires_approval=True, description="Execute the deployment", name="execute_deployment")
def worker_execute_deployment(session: Session) -> str:
    """Execute the pending deployment (requires approval), naming the worker."""
    return f"{deploy.execute_deployment(session)} by worker {os.getpid()}"


WORKER_DEPLOY = Agent(
    tools=[deploy.start_deployment, deploy.add_service, worker_execute_deployment, whoami],
    name="deploy",
)


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


def _context_reply(request: Any) -> None:
    raise InterceptorError(json.dumps(request.context, sort_keys=True))


def context_echo_agent() -> Agent:
    """An agent with tools whose reply is the `context` its turn got."""
    return Agent(tools=[whoami], request_interceptors=_context_reply, name="context")


def failing_agent() -> FunctionAgent:
    return FunctionAgent(failing, name="failing")
