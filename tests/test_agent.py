"""Agents: the session lifecycle and deployment workflow of DCAF's Session guide through
`Agent.run`, approvals (`decisions_message`, `complete_turn`), custom agent functions, and
model specs.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
from fakes.models import RecordingModel, write_script

from dcaf_cli import Agent, AgentResult, FunctionAgent, Session, tool
from dcaf_cli.errors import ProviderMissingError, UsageError
from dcaf_cli.examples import counter, deploy, shop
from dcaf_cli.models import resolve_model
from dcaf_cli.models.script import ScriptModel
from dcaf_cli.runtime.agent import TurnOutcome, complete_turn, decisions_message
from dcaf_cli.runtime.results import AgentResponse, Decision, PendingToolCall
from dcaf_cli.runtime.turn import TurnOptions


def user(text: str, **data: Any) -> dict[str, Any]:
    return (
        {"role": "user", "content": text, "data": data}
        if data
        else {"role": "user", "content": text}
    )


def test_the_public_api_imports() -> None:
    import dcaf_cli
    from dcaf_cli import Agent, AgentResult, LLMRequest, LLMResponse, Session, tool

    for name in ("Agent", "AgentResult", "LLMRequest", "LLMResponse", "Session", "tool"):
        assert name in dcaf_cli.__all__
    assert callable(tool)
    assert isinstance(Session(), Session)
    assert {Agent.__name__, AgentResult.__name__, LLMRequest.__name__, LLMResponse.__name__} == {
        "Agent",
        "AgentResult",
        "LLMRequest",
        "LLMResponse",
    }


# -- the guide's "Session Lifecycle", turns 1 to 4 ----------------------------------------

SLASH = ["/add_to_cart Widget 2", "/add_to_cart item=Gadget quantity=3", "/checkout", "/view_cart"]
FREE_TEXT = ["add 2 Widgets to my cart", "add 3 Gadgets", "checkout", "what's in my cart?"]
WIDGETS = {"item": "Widget", "quantity": 2}
GADGETS = {"item": "Gadget", "quantity": 3}
LIFECYCLE = [
    # (tool called, its input, session after, reply, JSON Patch of the turn)
    (
        "add_to_cart",
        WIDGETS,
        {"cart": [WIDGETS]},
        "Added 2x Widget. Cart now has 2 items.",
        [{"op": "add", "path": "/cart", "value": [WIDGETS]}],
    ),
    (
        "add_to_cart",
        GADGETS,
        {"cart": [WIDGETS, GADGETS]},
        "Added 3x Gadget. Cart now has 5 items.",
        [{"op": "add", "path": "/cart/1", "value": GADGETS}],
    ),
    (
        "checkout",
        {},
        {},
        "✅ Order placed! 5 items will be shipped.",
        [{"op": "remove", "path": "/cart"}],
    ),
    ("view_cart", {}, {}, "Your cart is empty.", []),
]


@pytest.mark.parametrize("inputs", [SLASH, FREE_TEXT], ids=["slash", "free-text"])
def test_guide_session_lifecycle_with_session_argument(inputs: list[str]) -> None:
    session: dict[str, Any] = {}
    for text, (name, arguments, after, reply, patch) in zip(inputs, LIFECYCLE, strict=True):
        response = shop.agent.run([user(text)], session=session)
        assert response.error is None
        assert [(c.name, c.input, c.error) for c in response.executed_tool_calls] == [
            (name, arguments, None)
        ]
        assert response.session == after
        assert response.text == reply
        assert response.patch == patch
        session = response.session


@pytest.mark.parametrize("inputs", [SLASH, FREE_TEXT], ids=["slash", "free-text"])
def test_guide_session_lifecycle_over_the_helpdesk_protocol(inputs: list[str]) -> None:
    """The session travels in the last user message's `data.session` and comes back in
    the assistant message's `data.session`, as the guide's Protocol Integration shows."""
    conversation: list[dict[str, Any]] = []
    session: dict[str, Any] = {}
    for text, (name, _, after, reply, _) in zip(inputs, LIFECYCLE, strict=True):
        conversation.append(user(text, session=session))
        message = shop.agent.chat(conversation)
        assert message["role"] == "assistant"
        assert message["content"] == reply
        assert message["data"]["session"] == after
        assert [c["name"] for c in message["data"]["executed_tool_calls"]] == [name]
        assert message["data"]["tool_calls"] == []
        conversation.append(message)
        session = message["data"]["session"]


def test_a_session_instance_is_changed_in_place_and_a_dict_is_not() -> None:
    live = Session({"cart": [WIDGETS]})
    response = shop.agent.run([user("/checkout")], session=live)
    assert live.to_dict() == {} == response.session

    plain = {"cart": [WIDGETS]}
    response = shop.agent.run([user("/checkout")], session=plain)
    assert plain == {"cart": [WIDGETS]}
    assert response.session == {}


def test_the_response_session_is_a_copy() -> None:
    response = shop.agent.run([user("/add_to_cart Widget 2")], session={})
    cart = response.session["cart"]
    assert isinstance(cart, list)
    cart.append("junk")
    assert response.session == {"cart": [WIDGETS]}


def test_async_twin_gives_the_same_response() -> None:
    response = asyncio.run(shop.agent.arun([user("add 2 Widgets to my cart")], session={}))
    assert isinstance(response, AgentResponse)
    assert response.session == {"cart": [WIDGETS]}


def test_agent_makes_plain_functions_tools_and_refuses_duplicate_names() -> None:
    def greet(name: str) -> str:
        return f"hello {name}"

    agent = Agent(tools=[greet])
    assert [t.name for t in agent.tools] == ["greet"]
    assert agent.run([user("/greet Ada")]).text == "hello Ada"
    with pytest.raises(ValueError, match="two tools share the name 'greet'"):
        Agent(tools=[greet, tool(greet)])


# -- the guide's deployment workflow and its approval ---------------------------------------

DEPLOYMENT = {
    "environment": "staging",
    "step": "services_added",
    "services": [{"name": "api", "version": "1.4.2"}],
}


class DeployRig:
    """The deploy example with a recording model and its approval tool counted."""

    def __init__(self) -> None:
        self.runs = 0

        @tool(
            requires_approval=True, description="Execute the deployment", name="execute_deployment"
        )
        def counted(session: Session) -> str:
            self.runs += 1
            return deploy.execute_deployment(session)

        self.model = RecordingModel()
        self.agent = Agent(
            tools=[deploy.start_deployment, deploy.add_service, counted, promote],
            model=self.model,
            name="deploy",
        )

    def prepared(self) -> dict[str, Any]:
        session: dict[str, Any] = {}
        for text in ("start a deployment to staging", "/add_service api 1.4.2"):
            session = self.agent.run([user(text)], session=session).session
        assert session == {"deployment": DEPLOYMENT}
        return session


@tool(requires_approval=True, description="Promote the deployment to another environment")
def promote(environment: Literal["staging", "production"], session: Session) -> str:
    deployment = session.get("deployment")
    deployment["environment"] = environment
    session.set("deployment", deployment)
    return f"Promoted to {environment}"


def test_execute_deployment_pauses_for_approval() -> None:
    rig = DeployRig()
    session = rig.prepared()
    response = rig.agent.run([user("execute the deployment")], session=session)
    assert response.is_paused
    assert response.error is None
    [pending] = response.pending_tool_calls
    assert (pending.name, pending.input, pending.reason) == ("execute_deployment", {}, "approval")
    assert pending.description == "Execute the deployment"
    assert response.executed_tool_calls == []
    assert response.session == session
    assert rig.runs == 0
    wire = response.to_message()["data"]["tool_calls"]
    assert wire == [
        {
            "id": pending.id,
            "name": "execute_deployment",
            "input": {},
            "execute": False,
            "tool_description": "Execute the deployment",
            "intent": "approval",
        }
    ]


def _paused(
    rig: DeployRig, text: str = "execute the deployment"
) -> tuple[list[dict[str, Any]], dict[str, Any], AgentResponse]:
    session = rig.prepared()
    first = user(text)
    response = rig.agent.run([first], session=session)
    assert response.is_paused
    return [first, response.to_message()], session, response


def test_a_rejection_leaves_the_session_untouched_and_reaches_the_model() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig)
    pending = paused.pending_tool_calls
    decision = decisions_message(pending, [Decision(pending[0].id, False, "not during the freeze")])
    assert decision["data"]["tool_calls"][0]["rejection_reason"] == "not during the freeze"
    assert decision["data"]["tool_calls"][0]["execute"] is False

    response = rig.agent.run([*conversation, decision], session=session)

    assert response.error is None
    assert not response.is_paused
    assert rig.runs == 0
    assert response.session == {"deployment": DEPLOYMENT}
    assert response.changes == []
    [rejected] = response.executed_tool_calls
    assert rejected.name == "execute_deployment"
    assert rejected.error == "rejected: not during the freeze"
    # The model was asked again, and read the reason as the call's (failed) result.
    [result] = rig.model.tool_results()
    assert result.is_error
    assert result.tool_name == "execute_deployment"
    assert "not during the freeze" in result.content
    assert "not during the freeze" in response.text


def test_a_rejection_through_complete_turn_and_a_decide_callback() -> None:
    rig = DeployRig()
    session = Session(rig.prepared())
    asked: list[list[PendingToolCall]] = []

    async def decide(pending: list[PendingToolCall]) -> list[Decision]:
        asked.append(pending)
        return [Decision(p.id, False, "wrong service") for p in pending]

    outcome = asyncio.run(
        complete_turn(rig.agent, [], user("execute the deployment"), session, decide)
    )
    assert [[p.name for p in batch] for batch in asked] == [["execute_deployment"]]
    assert rig.runs == 0
    assert session.to_dict() == {"deployment": DEPLOYMENT}
    assert not session.is_modified
    assert outcome.response.error is None
    assert "wrong service" in rig.model.tool_results()[0].content
    # The messages the turn adds to the conversation: the user's, the paused reply, the
    # decision and the final reply (with every executed call, the rejection included).
    roles = [m["role"] for m in outcome.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    final = outcome.messages[-1]["data"]
    assert "session" not in final
    assert [c["error"] for c in final["executed_tool_calls"]] == ["rejected: wrong service"]


def test_an_approval_runs_the_deployment_and_clears_it() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig)
    approve = decisions_message(
        paused.pending_tool_calls, [Decision(paused.pending_tool_calls[0].id, True)]
    )
    response = rig.agent.run([*conversation, approve], session=session)
    assert response.error is None
    assert rig.runs == 1
    assert response.session == {}
    assert response.text == "✅ Deployed api:1.4.2 to staging"
    assert [(c.name, c.error) for c in response.executed_tool_calls] == [
        ("execute_deployment", None)
    ]
    assert response.patch == [{"op": "remove", "path": "/deployment"}]


def test_approving_through_complete_turn_then_the_model_continues() -> None:
    rig = DeployRig()
    session = Session(rig.prepared())

    async def approve(pending: list[PendingToolCall]) -> list[Decision]:
        return [Decision(p.id, True) for p in pending]

    outcome = asyncio.run(
        complete_turn(rig.agent, [], user("execute the deployment"), session, approve)
    )
    assert isinstance(outcome, TurnOutcome)
    assert rig.runs == 1
    assert session.to_dict() == {}
    assert outcome.response.text == "✅ Deployed api:1.4.2 to staging"
    assert outcome.response.patch == [{"op": "remove", "path": "/deployment"}]
    # The model saw the tool's output after the approval.
    assert rig.model.tool_results()[-1].content == "✅ Deployed api:1.4.2 to staging"


class CountingAgent(Agent):
    """An agent that counts the requests it is given."""

    requests = 0

    async def arun(self, messages: Any, **kwargs: Any) -> AgentResponse:
        self.requests += 1
        return await super().arun(messages, **kwargs)


def test_a_local_agent_resumes_in_memory_after_the_decisions() -> None:
    rig = DeployRig()
    session = Session(rig.prepared())
    agent = CountingAgent(tools=rig.agent.tools, model=rig.model, name="deploy")

    async def edit(pending: list[PendingToolCall]) -> list[Decision]:
        return [Decision(p.id, True, input={"environment": "production"}) for p in pending]

    outcome = asyncio.run(
        complete_turn(agent, [], user("promote the deployment to staging"), session, edit)
    )
    assert agent.requests == 1  # paused, then carried on: no second request to parse
    assert outcome.response.error is None
    assert [(c.name, c.input) for c in outcome.executed] == [
        ("promote", {"environment": "production"})
    ]
    assert session["deployment"]["environment"] == "production"
    assert outcome.response.patch == [
        {"op": "replace", "path": "/deployment/environment", "value": "production"}
    ]
    # The file still records the pause and the decision, as the wire has them.
    roles = [m["role"] for m in outcome.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert outcome.messages[2]["data"]["tool_calls"][0]["input"] == {"environment": "production"}


def test_an_edit_is_refused_in_memory_too_when_edits_are_not_allowed() -> None:
    rig = DeployRig()
    session = Session(rig.prepared())

    async def edit(pending: list[PendingToolCall]) -> list[Decision]:
        return [Decision(p.id, True, input={"environment": "staging"}) for p in pending]

    outcome = asyncio.run(
        complete_turn(
            rig.agent,
            [],
            user("promote the deployment to production"),
            session,
            edit,
            options=TurnOptions(allow_edits=False),
        )
    )
    assert outcome.response.error is not None
    assert "changes its arguments" in outcome.response.error
    assert session.to_dict() == rig.prepared()
    assert outcome.messages == []


def test_an_edited_approval_runs_with_the_edited_arguments() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig, "promote the deployment to production")
    [pending] = paused.pending_tool_calls
    assert (pending.name, pending.input) == ("promote", {"environment": "production"})
    edited = decisions_message(
        [pending], [Decision(pending.id, True, input={"environment": "staging"})]
    )
    response = rig.agent.run([*conversation, edited], session=session)
    assert response.error is None
    [call] = response.executed_tool_calls
    assert (call.input, call.output) == ({"environment": "staging"}, "Promoted to staging")
    deployment = response.session["deployment"]
    assert isinstance(deployment, dict)
    assert deployment["environment"] == "staging"


def test_an_edit_that_does_not_validate_is_an_error_result_and_changes_nothing() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig, "promote the deployment to production")
    [pending] = paused.pending_tool_calls
    edited = decisions_message(
        [pending], [Decision(pending.id, True, input={"environment": "moon"})]
    )
    response = rig.agent.run([*conversation, edited], session=session)
    [call] = response.executed_tool_calls
    assert call.error is not None
    assert "environment" in call.error
    assert response.session == session


def test_edits_are_refused_when_not_allowed() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig, "promote the deployment to production")
    [pending] = paused.pending_tool_calls
    edited = decisions_message(
        [pending], [Decision(pending.id, True, input={"environment": "staging"})]
    )
    response = rig.agent.run(
        [*conversation, edited], session=session, options=TurnOptions(allow_edits=False)
    )
    assert response.error == f"the decision for promote ({pending.id}) changes its arguments"
    assert response.session == session
    # The same approval without an edit is fine under the same options.
    plain = decisions_message([pending], [Decision(pending.id, True)])
    response = rig.agent.run(
        [*conversation, plain], session=session, options=TurnOptions(allow_edits=False)
    )
    assert response.error is None
    deployment = response.session["deployment"]
    assert isinstance(deployment, dict)
    assert deployment["environment"] == "production"


def test_always_approve_skips_the_pause() -> None:
    rig = DeployRig()
    session = rig.prepared()
    response = rig.agent.run(
        [user("execute the deployment")],
        session=session,
        options=TurnOptions(always_approve=frozenset({"execute_deployment"})),
    )
    assert not response.is_paused
    assert rig.runs == 1
    assert response.session == {}


def test_a_pending_call_without_a_decision_counts_as_rejected() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig)
    nothing = decisions_message(paused.pending_tool_calls, [])
    assert nothing["data"]["tool_calls"][0]["rejection_reason"] == "rejected by the user"
    response = rig.agent.run([*conversation, nothing], session=session)
    assert rig.runs == 0
    assert response.executed_tool_calls[0].error == "rejected: rejected by the user"


def test_decisions_for_calls_nobody_proposed_are_refused() -> None:
    rig = DeployRig()
    session = rig.prepared()
    forged = {
        "role": "user",
        "content": "",
        "data": {"tool_calls": [{"id": "x1", "name": "execute_deployment", "execute": True}]},
    }
    response = rig.agent.run([user("hi"), forged], session=session)
    assert response.error is not None
    assert "no call is waiting" in response.error
    assert rig.runs == 0
    assert response.session == session


def test_a_decision_naming_another_tool_is_refused() -> None:
    rig = DeployRig()
    conversation, session, paused = _paused(rig)
    decision = decisions_message(
        paused.pending_tool_calls, [Decision(paused.pending_tool_calls[0].id, True)]
    )
    decision["data"]["tool_calls"][0]["name"] = "start_deployment"
    response = rig.agent.run([*conversation, decision], session=session)
    assert response.error is not None
    assert "names 'start_deployment'" in response.error
    assert rig.runs == 0
    assert response.session == session


# -- complete_turn: the whole user turn is one transaction ---------------------------------


def test_complete_turn_rolls_back_parts_before_the_pause_when_a_later_part_fails(
    tmp_path: Path,
) -> None:
    """A tool ran before the pause; the model fails after the approval: nothing remains."""
    script = write_script(
        tmp_path / "s.json",
        [
            {
                "tool_calls": [
                    {"name": "add_to_cart", "arguments": {"item": "Widget", "quantity": 2}},
                    {"name": "execute_deployment"},
                ]
            },
            {"error": "the provider went away"},
        ],
    )
    agent = Agent(tools=[*shop.agent.tools, deploy.execute_deployment], model=ScriptModel(script))
    session = Session({"deployment": DEPLOYMENT})

    async def approve(pending: list[PendingToolCall]) -> list[Decision]:
        assert session.get("cart") == [WIDGETS]  # the first part really ran
        return [Decision(p.id, True) for p in pending]

    outcome = asyncio.run(complete_turn(agent, [], user("go"), session, approve))
    assert outcome.response.error == "the provider went away"
    assert outcome.messages == []
    assert outcome.response.changes == []
    assert session.to_dict() == {"deployment": DEPLOYMENT}
    assert not session.is_modified


def test_complete_turn_rolls_back_and_reraises_when_the_decision_is_interrupted() -> None:
    rig = DeployRig()
    session = Session(rig.prepared())
    session.set("note", "before")

    async def interrupted(pending: list[PendingToolCall]) -> list[Decision]:
        session.set("note", "during")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(
            complete_turn(rig.agent, [], user("execute the deployment"), session, interrupted)
        )
    assert session.get("note") == "before"
    assert session.get("deployment") == DEPLOYMENT


def test_complete_turn_asks_for_missing_arguments_and_then_runs_the_call() -> None:
    session = Session()

    async def fill(pending: list[PendingToolCall]) -> list[Decision]:
        [call] = pending
        assert (call.reason, call.missing, call.input) == (
            "missing_arguments",
            ["quantity"],
            {"item": "widget"},
        )
        return [Decision(call.id, True, input={**call.input, "quantity": 4})]

    outcome = asyncio.run(complete_turn(shop.agent, [], user("add widget"), session, fill))
    assert outcome.response.error is None
    assert session.to_dict() == {"cart": [{"item": "widget", "quantity": 4}]}
    assert [c.name for c in outcome.executed] == ["add_to_cart"]
    assert outcome.response.patch == [
        {"op": "add", "path": "/cart", "value": [{"item": "widget", "quantity": 4}]}
    ]


def test_complete_turn_keeps_earlier_history_out_of_the_added_messages() -> None:
    history = [user("add 2 Widgets to my cart"), {"role": "assistant", "content": "Added."}]

    async def never(pending: list[PendingToolCall]) -> list[Decision]:
        raise AssertionError("nothing to decide")

    session = Session()
    outcome = asyncio.run(complete_turn(shop.agent, history, user("/view_cart"), session, never))
    assert [m["content"] for m in outcome.messages] == ["/view_cart", "Your cart is empty."]
    assert len(history) == 2


# -- custom agent functions --------------------------------------------------------------


def my_agent(
    messages: list[dict[str, Any]], context: dict[str, Any], session: Session
) -> AgentResult:
    """The guide's custom agent with session access."""
    call_count = session.get("call_count", 0)
    session.set("call_count", call_count + 1)
    session.set("last_message", messages[-1]["content"])
    return AgentResult(text=f"This is call #{call_count + 1}", session=session.to_dict())


def old_style(messages: list[dict[str, Any]], context: dict[str, Any]) -> AgentResult:
    """The guide's backward-compatible form: no session parameter."""
    return AgentResult(text="Hello!")


async def async_agent(
    messages: list[dict[str, Any]], context: dict[str, Any], session: Session
) -> str:
    await asyncio.sleep(0)
    session.set("seen", context.get("user", "?"))
    return f"hi {context.get('user')}"


async def async_two(messages: list[dict[str, Any]], context: dict[str, Any]) -> AgentResult:
    await asyncio.sleep(0)
    return AgentResult(text=str(len(messages)), data={"extra": 1})


def test_guide_my_agent_counts_calls_in_the_session() -> None:
    agent = FunctionAgent(my_agent)
    session: dict[str, Any] = {}
    for n in (1, 2, 3):
        response = agent.run([user(f"message {n}")], session=session)
        assert isinstance(response, AgentResponse)
        assert response.text == f"This is call #{n}"
        assert response.session == {"call_count": n, "last_message": f"message {n}"}
        session = response.session
    assert agent.model_name == "function:my_agent"
    assert agent.tools == []


def test_guide_old_style_agent_without_session_still_works() -> None:
    agent = FunctionAgent(old_style)
    assert not agent.wants_session
    response = agent.run([user("hi")], session={"kept": True})
    assert response.text == "Hello!"
    assert response.session == {"kept": True}
    assert response.changes == []


def test_async_agent_functions_are_awaited() -> None:
    response = FunctionAgent(async_agent).run([user("hi")], session={}, context={"user": "ada"})
    assert (response.text, response.session) == ("hi ada", {"seen": "ada"})
    assert response.patch == [{"op": "add", "path": "/seen", "value": "ada"}]
    two = FunctionAgent(async_two).run(
        [user("a"), {"role": "assistant", "content": "b"}, user("c")]
    )
    assert two.text == "3"
    assert two.to_message()["data"]["extra"] == 1


def test_counter_example_keeps_its_count_across_turns() -> None:
    agent = FunctionAgent(counter.counter)
    first = agent.run([user("one")], session={})
    second = agent.chat([user("two")], session=first.session)
    assert first.text == "This is call #1"
    assert second["content"] == "This is call #2"
    assert second["data"]["session"] == {"call_count": 2, "last_message": "two"}


def test_a_function_with_a_session_parameter_does_not_get_it_in_its_messages_too() -> None:
    seen: list[list[dict[str, Any]]] = []

    def look(messages: list[dict[str, Any]], context: dict[str, Any], session: Session) -> str:
        seen.append(messages)
        return str(session.get("count"))

    message = user("hi", session={"count": 3})
    message["platform_context"] = {"tenant": "t1"}
    response = FunctionAgent(look).run([message])
    assert response.text == "3"
    assert seen == [[{"role": "user", "content": "hi", "platform_context": {"tenant": "t1"}}]]

    def old_style(messages: list[dict[str, Any]], context: dict[str, Any]) -> str:
        seen.append(messages)  # no `session` parameter: its messages are the only way
        return str(messages[-1]["data"]["session"]["count"])

    assert FunctionAgent(old_style).run([message]).text == "3"
    assert seen[-1][-1]["data"] == {"session": {"count": 3}}


def test_an_agent_result_session_replaces_the_session() -> None:
    def replace(
        messages: list[dict[str, Any]], context: dict[str, Any], session: Session
    ) -> AgentResult:
        return AgentResult(text="replaced", session={"only": 1})

    response = FunctionAgent(replace).run([user("x")], session={"a": 1, "b": 2})
    assert response.session == {"only": 1}
    assert sorted(c.where for c in response.changes) == ["a", "b", "only"]


def test_a_failing_agent_function_rolls_its_changes_back() -> None:
    def failing(messages: list[dict[str, Any]], context: dict[str, Any], session: Session) -> str:
        session.set("half", "applied")
        session.delete("a")
        raise RuntimeError("the agent fell over")

    response = FunctionAgent(failing).run([user("x")], session={"a": 1})
    assert response.error == "RuntimeError: the agent fell over"
    assert isinstance(response.exception, RuntimeError)
    assert response.session == {"a": 1}


def test_an_agent_function_returning_something_else_is_an_error() -> None:
    def wrong(messages: list[dict[str, Any]], context: dict[str, Any], session: Session) -> Any:
        session.set("x", 1)
        return 42

    response = FunctionAgent(wrong).run([user("x")], session={})
    assert response.error is not None
    assert "returned int; return AgentResult or str" in response.error
    assert response.session == {}


def test_an_agent_result_session_that_is_not_json_is_an_error() -> None:
    def bad(messages: list[dict[str, Any]], context: dict[str, Any]) -> AgentResult:
        return AgentResult(text="x", session={"s": {1, 2}})

    response = FunctionAgent(bad).run([user("x")], session={"a": 1})
    assert response.error is not None
    assert "'s'" in response.error
    assert response.session == {"a": 1}


def test_function_agents_and_tool_agents_give_the_same_message_shape() -> None:
    fn = FunctionAgent(my_agent).chat([user("x")], session={})
    model = shop.agent.chat([user("view cart")], session={})
    assert fn.keys() == model.keys() == {"role", "content", "data"}
    assert fn["data"].keys() == model["data"].keys()


# -- model specs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "package", "extra"),
    [
        ("openai:gpt-4o-mini", "openai", "openai"),
        ("ollama:llama3.2", "openai", "openai"),
        ("anthropic:claude-sonnet-4", "anthropic", "anthropic"),
        ("bedrock:amazon.nova-lite-v1:0", "boto3", "bedrock"),
    ],
)
def test_a_missing_provider_sdk_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, spec: str, package: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # `import package` now fails
    with pytest.raises(ProviderMissingError) as info:
        resolve_model(spec)
    message = str(info.value)
    assert f"pip install 'dcaf-cli[{extra}]'" in message
    assert repr(package) in message
    assert "\n" not in message
    assert isinstance(info.value, UsageError)  # exit status 2: nothing was changed


def test_an_agent_with_a_missing_provider_fails_before_the_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    agent = Agent(tools=shop.agent.tools, model="openai:gpt-4o-mini")
    assert agent.model_name == "openai:gpt-4o-mini"
    live = Session({"cart": []})
    with pytest.raises(ProviderMissingError, match=r"pip install 'dcaf-cli\[openai\]'"):
        agent.run([user("add 2 widgets")], session=live)
    assert live.to_dict() == {"cart": []}


def test_unknown_model_specs_name_the_known_ones() -> None:
    with pytest.raises(UsageError, match="unknown model 'gpt-4'") as info:
        resolve_model("gpt-4")
    assert "offline" in str(info.value)
    assert "openai:" in str(info.value)
    with pytest.raises(UsageError, match="script needs a file"):
        resolve_model("script:")


def test_an_empty_spec_is_the_offline_model_and_use_model_switches() -> None:
    assert resolve_model("").name == "offline"
    agent = Agent(tools=shop.agent.tools)
    assert agent.model_name == "offline"
    recording = RecordingModel()
    agent.use_model(recording)
    agent.run([user("view cart")])
    assert agent.model_name == "recording"
    assert len(recording.requests) == 2  # the choice of tool, then the reply


def test_a_custom_function_proposes_calls_and_gets_the_approved_ones() -> None:
    """DCAF's `AgentResult.pending_tools`: the function proposes, the user decides, and
    the function gets the approved calls in `context["approved_tool_calls"]`."""
    seen: list[dict[str, Any]] = []

    def pods(messages: list[dict[str, Any]], context: dict[str, Any]) -> AgentResult:
        seen.append(context)
        if "approved_tool_calls" in context:
            return AgentResult(text=f"ran {len(context['approved_tool_calls'])}")
        proposals = [
            {"id": "p-1", "name": "delete_pod", "input": {"name": "a"}},
            PendingToolCall("p-2", "delete_pod", {"name": "b"}, "Delete a pod"),
        ]
        return AgentResult(text="approve?", pending_tools=proposals)

    async def decide(pending: list[PendingToolCall]) -> list[Decision]:
        assert [p.id for p in pending] == ["p-1", "p-2"]
        return [Decision("p-1", True), Decision("p-2", False, "no")]

    outcome = asyncio.run(
        complete_turn(FunctionAgent(pods), [], {"role": "user", "content": "go"}, Session(), decide)
    )
    assert outcome.response.text == "ran 1"
    assert seen[1]["approved_tool_calls"] == [
        {"id": "p-1", "name": "delete_pod", "input": {"name": "a"}}
    ]


def test_the_shop_counts_one_item_in_the_singular() -> None:
    session = Session()
    added = shop.add_to_cart.invoke({"item": "Widget", "quantity": 1}, session)
    assert added == "Added 1x Widget. Cart now has 1 item."
    assert shop.view_cart.invoke({}, session).endswith("Total: 1 item")
    assert shop.checkout.invoke({}, session) == "✅ Order placed! 1 item will be shipped."


def test_the_deploy_agent_counts_one_service_in_the_singular() -> None:
    session = Session()
    deploy.start_deployment.invoke({"environment": "staging"}, session)
    first = deploy.add_service.invoke({"service_name": "api", "version": "1.4.2"}, session)
    assert first == "Added api:1.4.2 to deployment. 1 service total."
    second = deploy.add_service.invoke({"service_name": "web", "version": "2.0"}, session)
    assert second == "Added web:2.0 to deployment. 2 services total."
