"""DCAF's API as agent code calls it: the Tool object, `create_tool`, `Agent(...)`'s
arguments, `await agent.run(...)`, InterceptorError's fields, and names dcaf-cli does not
offer failing with one line."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import Any

import pytest
from pydantic import BaseModel, Field

from dcaf_cli import Session, Tool
from dcaf_cli.errors import ToolArgumentError, ToolDefinitionError
from dcaf_cli.runtime.compat import install
from dcaf_cli.runtime.compat.agent import DcafAgent, model_spec

pytestmark = pytest.mark.skipif(
    "dcaf" not in sys.modules and importlib.util.find_spec("dcaf") is not None,
    reason="the real dcaf package is installed; the stand-ins step aside",
)


class MultiplyInput(BaseModel):
    a: int = Field(..., description="First number")
    b: int = Field(..., description="Second number")


def multiply(a: int, b: int) -> str:
    return f"{a} x {b} = {a * b}"


def test_create_tool_and_the_tool_object_api() -> None:
    install()
    from dcaf.tools import Tool as DcafTool
    from dcaf.tools import create_tool

    made = create_tool(multiply, schema=MultiplyInput, description="Multiply two numbers")
    assert isinstance(made, DcafTool)
    assert not made.requires_approval  # create_tool's DCAF default
    assert made.func is multiply
    assert made.execute({"a": 6, "b": 7}) == "6 x 7 = 42"
    assert made.execute({"a": "6", "b": 7}) == "6 x 7 = 42"  # checked and coerced
    assert made.get_schema() == {
        "name": "multiply",
        "description": "Multiply two numbers",
        "input_schema": made.input_schema,
    }
    assert made.input_schema["required"] == ["a", "b"]
    with pytest.raises(ToolArgumentError, match="missing required argument 'b'"):
        made.execute({"a": 1})
    built = DcafTool(func=multiply, name="times", description="x", schema=MultiplyInput)
    assert (built.name, built.execute({"a": 2, "b": 3})) == ("times", "2 x 3 = 6")


def test_the_decorator_takes_dcaf_s_three_schema_forms() -> None:
    install()
    from dcaf.tools import tool

    raw = {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}}
    spec = {"name": "times_two", "description": "Double it", "input_schema": raw}

    @tool(raw)  # DCAF's positional form
    def double(a: int) -> int:
        return a * 2

    by_spec = tool(schema=spec)(lambda a: a * 2)
    assert double.requires_approval  # DCAF's default
    assert by_spec.requires_approval
    assert (by_spec.name, by_spec.description) == ("times_two", "Double it")
    assert by_spec.invoke({"a": 4}) == 8
    with pytest.raises(ToolArgumentError, match="argument 'a': -1 is less than the minimum of 0"):
        double.invoke({"a": -1})
    with pytest.raises(ToolDefinitionError, match="schema= takes a Pydantic model class"):
        tool(schema=42)(multiply)
    with pytest.raises(ToolDefinitionError, match="schema= is not valid"):
        tool(schema={"type": "object", "properties": {"a": {"type": "integr"}}})(multiply)


def test_dcaf_cli_s_own_tool_keeps_its_default() -> None:
    from dcaf_cli import tool

    assert not tool(multiply).requires_approval
    assert tool(schema=MultiplyInput)(multiply).invoke({"a": 2, "b": 2}) == "2 x 2 = 4"


@pytest.mark.parametrize(
    ("provider", "model", "spec"),
    [
        (None, "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
         "bedrock:us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ("bedrock", "anthropic.claude-3-sonnet-20240229-v1:0",
         "bedrock:anthropic.claude-3-sonnet-20240229-v1:0"),
        ("anthropic", "claude-3-sonnet-20240229", "anthropic:claude-3-sonnet-20240229"),
        ("openai", "gpt-4", "openai:gpt-4"),
        ("ollama", "llama2", "ollama:llama2"),
        (None, None, None),
        ("google", "gemini-2.5-flash", None),
    ],
)  # fmt: skip
def test_provider_and_model_map_to_a_model_spec(
    provider: str | None, model: str | None, spec: str | None
) -> None:
    assert model_spec(provider, model) == spec


def test_agent_arguments_map_or_are_noted() -> None:
    agent = DcafAgent(
        provider="google",
        model="gemini-2.5-flash",
        api_key="k",
        aws_profile="prod",
        aws_region="us-west-2",
        on_interceptor_error="continue",
        system_prompt="Be kind.",
        system_context=lambda ctx: f"Tenant: {ctx.get('tenant_name')}",
    )
    assert agent.model is None
    assert agent.model_name == "offline"
    assert agent.model_options.region == "us-west-2"
    assert agent.model_options.profile == "prod"
    assert agent.name == "dcaf-agent"
    assert agent.system_for({"tenant_name": "acme"}) == "Be kind.\n\nTenant: acme"
    assert agent.notes == [
        "provider='google': dcaf-cli offers bedrock, anthropic, openai, ollama",
        "on_interceptor_error=...",
    ]
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        DcafAgent(colour="blue")


def test_run_is_awaited_in_a_loop_and_called_outside_one() -> None:
    install()
    from dcaf.core import Agent, tool

    @tool(requires_approval=False)
    def greet(name: str) -> str:
        """Greet someone."""
        return f"Hello, {name}!"

    agent = Agent(tools=[greet])
    outside = agent.run([{"role": "user", "content": "/greet Ada"}])
    assert outside.text == "Hello, Ada!"
    assert (outside.needs_approval, outside.pending_tools, outside.is_complete) == (
        False,
        [],
        True,
    )

    async def inside() -> Any:
        return await agent.run("/greet Bob", session={"kept": True})

    response = asyncio.run(inside())
    assert (response.text, response.session) == ("Hello, Bob!", {"kept": True})


def test_interceptor_error_carries_code_and_details() -> None:
    install()
    from dcaf.core.interceptors import InterceptorError

    error = InterceptorError("No.", code="BLOCKED", details={"why": "test"})
    assert (error.user_message, error.code, error.details) == ("No.", "BLOCKED", {"why": "test"})
    assert str(error) == "[BLOCKED] No."
    assert str(InterceptorError(user_message="Plain.")) == "Plain."


@pytest.mark.parametrize(
    ("statement", "line"),
    [
        ("from dcaf.core import emit_update",
         "dcaf.core.emit_update is not available in dcaf-cli: progress shows as the turn's "
         "tool calls; remove the call"),
        ("from dcaf.core import load_agent_config",
         "dcaf.core.load_agent_config is not available in dcaf-cli: choose the model with "
         "--model or DCAF_MODEL"),
        ("from dcaf.agents import ToolCallingAgent",
         "dcaf.agents.ToolCallingAgent is not available in dcaf-cli: use Agent(tools=[...])"),
        ("from dcaf.core.queue import JobQueue",
         "dcaf.core.queue.JobQueue is not available in dcaf-cli: dcaf-cli offers Agent, tool, "
         "Session, serve and interceptors (see docs/tools.md)"),
    ],
)  # fmt: skip
def test_names_not_offered_fail_with_one_line(statement: str, line: str) -> None:
    install()
    with pytest.raises(ImportError) as info:
        exec(statement, {})
    assert str(info.value) == line


def test_the_names_dcaf_exports_at_the_top_level_and_in_core() -> None:
    install()
    namespace: dict[str, Any] = {}
    exec(
        "from dcaf import create_chat_app, AgentProtocol, AgentMessage, Messages, "
        "ExecutedToolCall\n"
        "from dcaf.core import Agent, AgentResponse, PendingToolCall, ChatMessage, "
        "create_app, serve, tool, Session, LLMRequest, LLMResponse, InterceptorError, "
        "AgentResult, create_request_from_messages, create_response_from_text\n"
        "from dcaf.core.interceptors import LLMRequest as R2\n"
        "from dcaf.schemas.messages import AgentMessage as M2, UserMessage, Data\n",
        namespace,
    )
    assert namespace["M2"] is namespace["AgentMessage"]
    assert namespace["R2"] is namespace["LLMRequest"]
    request = namespace["create_request_from_messages"](
        [{"role": "user", "content": "hi"}], system_prompt="S"
    )
    request.add_system_context("more")
    assert (request.system, request.get_latest_user_message()) == ("S\n\nmore", "hi")
    assert isinstance(request.session, Session)
    message = namespace["ChatMessage"].user("hi", context={"tenant_name": "acme"})
    assert message.to_dict() == {
        "role": "user",
        "content": "hi",
        "platform_context": {"tenant_name": "acme"},
    }
    assert isinstance(namespace["tool"](multiply), Tool)


def test_the_run_context_takes_platform_context_from_the_request_and_the_message() -> None:
    from dcaf_cli.protocol.wire import parse_messages
    from dcaf_cli.runtime.platform import run_context

    wire = parse_messages(
        [
            {"role": "user", "content": "old", "platform_context": {"tenant_name": "old"}},
            {"role": "user", "content": "hi", "platform_context": {"k8s_namespace": "web"}},
        ]
    )
    given = {"source": "help-desk", "platform_context": {"tenant_name": "acme", "x": 1}}
    assert run_context(given, wire) == {
        "source": "help-desk",
        "tenant_name": "acme",
        "x": 1,
        "k8s_namespace": "web",
    }
    assert run_context(None, []) == {}


def test_session_edge_cases_decided_as_documented() -> None:
    from dcaf_cli.session.session import SessionValueError

    session = Session({"prefs": None, "count": "many", "n": 1})
    assert session.get("prefs", as_type=MultiplyInput) is None  # a stored None, as in DCAF
    with pytest.raises(SessionValueError, match="DCAF would return the stored value unconverted"):
        session.get("count", as_type=int)
    session.set("n", 1)
    assert not session.is_modified  # the same value again changes nothing
    session.set("pair", (1, 2))
    assert session.get("pair") == [1, 2]


def test_interceptors_see_tools_as_dcaf_shapes_them() -> None:
    install()
    from dcaf.core import Agent, LLMRequest, LLMResponse, tool

    from dcaf_cli.models.base import ModelReply, ModelRequest

    class Recorder:
        name = "recorder"

        def __init__(self) -> None:
            self.requests: list[ModelRequest] = []

        async def complete(self, request: ModelRequest, on_text: Any = None) -> ModelReply:
            self.requests.append(request)
            return ModelReply(text="ok")

    @tool(requires_approval=False)
    def keep(x: int) -> int:
        """Keep x."""
        return x

    @tool(requires_approval=False)
    def drop(x: int) -> int:
        """Drop x."""
        return x

    seen: list[dict[str, Any]] = []

    def only_keep(request: LLMRequest) -> LLMRequest:
        seen.extend(t.get_schema() for t in request.tools)
        request.tools = [t for t in request.tools if t.name == "keep"]
        request.messages[-1]["content"] = "rewritten"
        return request

    def shout(response: LLMResponse) -> LLMResponse:
        response.text = response.text.upper() + f" ({response.get_text_length()})"
        return response

    model = Recorder()
    agent = Agent(tools=[keep, drop], request_interceptors=only_keep, response_interceptors=shout)
    agent.use_model(model)
    response = agent.run("hello")
    assert [s["name"] for s in seen] == ["keep", "drop"]
    assert seen[0]["input_schema"]["properties"] == {"x": {"type": "integer"}}
    assert [t.name for t in model.requests[0].tools] == ["keep"]
    assert model.requests[0].messages[-1].content == "rewritten"
    assert response.text == "OK (2)"
