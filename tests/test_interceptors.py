"""Request and response interceptors: the examples of DCAF's Session guide, sync and async,
one or a list, system context, session access, blocking with `InterceptorError`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fakes.models import RecordingModel, write_script

from dcaf_cli import Agent, InterceptorError, LLMRequest, LLMResponse, Session
from dcaf_cli.examples import shop
from dcaf_cli.models.script import ScriptModel
from dcaf_cli.runtime.interceptors import apply_interceptors, as_list


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


# -- the guide's examples ---------------------------------------------------------------------


def add_user_context(request: LLMRequest) -> LLMRequest:
    """Add user-specific context from session."""
    user_prefs = request.session.get("user_preferences", {})
    user_name = request.session.get("user_name", "User")

    request.add_system_context(f"User: {user_name}")
    if user_prefs.get("verbose"):
        request.add_system_context("User prefers detailed explanations.")

    count = request.session.get("request_count", 0)
    request.session.set("request_count", count + 1)

    return request


def track_response_metrics(response: LLMResponse) -> LLMResponse:
    """Track response metrics in session."""
    response.session.set("last_response_length", len(response.text))
    response.session.set("had_tool_calls", response.has_tool_calls())

    if response.usage:
        total = response.session.get("total_tokens", 0)
        total += response.usage.get("output_tokens", 0)
        response.session.set("total_tokens", total)

    return response


def test_guide_add_user_context_reaches_the_system_prompt_and_counts_requests() -> None:
    model = RecordingModel()
    agent = Agent(
        tools=shop.agent.tools,
        model=model,
        system_prompt="You run a shop.",
        request_interceptors=add_user_context,
    )
    session = {"user_name": "Alice", "user_preferences": {"verbose": True}}
    response = agent.run([user("view cart")], session=session)
    # Two model requests in this turn: choosing the tool, then replying after it ran.
    assert len(model.requests) == 2
    assert model.requests[0].system == (
        "You run a shop.\n\nUser: Alice\n\nUser prefers detailed explanations."
    )
    # Request interceptors run once per run, as in DCAF: one user turn counts one.
    assert model.requests[1].system == model.requests[0].system
    assert response.session["request_count"] == 1
    assert response.text == "Your cart is empty."


def test_system_context_is_per_request_not_cumulative() -> None:
    model = RecordingModel()
    agent = Agent(tools=shop.agent.tools, model=model, request_interceptors=add_user_context)
    agent.run([user("view cart")], session={})
    assert [r.system for r in model.requests] == ["User: User", "User: User"]


def test_guide_track_response_metrics_keeps_its_figures_in_the_session(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "s.json",
        [
            {
                "text": "Adding that now",
                "tool_calls": [
                    {"name": "add_to_cart", "arguments": {"item": "Widget", "quantity": 2}}
                ],
            },
            {"text": "Done: 2 widgets"},
        ],
    )
    agent = Agent(
        tools=shop.agent.tools,
        model=ScriptModel(script),
        response_interceptors=track_response_metrics,
    )
    response = agent.run([user("add 2 widgets")], session={})
    assert response.session["last_response_length"] == len("Done: 2 widgets")
    assert response.session["had_tool_calls"] is False
    # Each response's own usage is added once: 3 words, then 3 words.
    assert response.session["total_tokens"] == 6
    assert response.usage["output_tokens"] == 6
    assert response.session["cart"] == [{"item": "Widget", "quantity": 2}]


def test_interceptor_session_changes_are_part_of_the_turn_and_its_diff() -> None:
    agent = Agent(tools=shop.agent.tools, request_interceptors=add_user_context)
    response = agent.run([user("view cart")], session={})
    assert response.patch == [{"op": "add", "path": "/request_count", "value": 1}]


def test_interceptor_changes_are_rolled_back_when_the_turn_fails(tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"error": "overloaded"}])
    agent = Agent(
        tools=shop.agent.tools,
        model=ScriptModel(script),
        request_interceptors=add_user_context,
    )
    live = Session({"request_count": 5})
    response = agent.run([user("x")], session=live)
    assert response.error == "overloaded"
    assert live.to_dict() == {"request_count": 5}


# -- shapes: sync or async, one or a list, None means unchanged --------------------------------


def test_async_interceptors_and_lists_run_in_order() -> None:
    order: list[str] = []

    async def first(request: LLMRequest) -> LLMRequest:
        await asyncio.sleep(0)
        order.append("first")
        request.add_system_context("from first")
        return request

    def second(request: LLMRequest) -> None:  # None: the request as it is
        order.append("second")
        request.add_system_context("from second")

    async def after(response: LLMResponse) -> LLMResponse:
        order.append("after")
        return LLMResponse(
            response.text.upper(), response.tool_calls, response.usage, session=response.session
        )

    model = RecordingModel()
    agent = Agent(
        tools=shop.agent.tools,
        model=model,
        request_interceptors=[first, second],
        response_interceptors=[after],
    )
    response = agent.run([user("view cart")], session={})
    assert order == ["first", "second", "after", "after"]
    assert model.requests[0].system == "from first\n\nfrom second"
    assert response.text == "YOUR CART IS EMPTY."


def test_a_response_interceptor_can_drop_tool_calls() -> None:
    def no_checkout(response: LLMResponse) -> LLMResponse:
        response.tool_calls = [c for c in response.tool_calls if c["name"] != "checkout"]
        if not response.tool_calls and not response.text:
            response.text = "Checkout is closed."
        return response

    agent = Agent(tools=shop.agent.tools, response_interceptors=no_checkout)
    cart = {"cart": [{"item": "Widget", "quantity": 2}]}
    response = agent.run([user("checkout")], session=cart)
    assert response.text == "Checkout is closed."
    assert response.executed_tool_calls == []
    assert response.session == cart


def test_as_list_accepts_none_one_or_many() -> None:
    def one(request: LLMRequest) -> None:
        return None

    assert as_list(None) == []
    assert as_list(one) == [one]
    assert as_list((one, one)) == [one, one]


def test_request_sees_messages_tools_and_context() -> None:
    seen: list[LLMRequest] = []

    def look(request: LLMRequest) -> None:
        seen.append(request)

    Agent(tools=shop.agent.tools, request_interceptors=look).run(
        [user("view cart")], session={}, context={"tenant": "acme"}
    )
    first = seen[0]
    assert first.context == {"tenant": "acme"}
    assert first.messages == [{"role": "user", "content": "view cart"}]
    assert first.get_latest_user_message() == "view cart"
    assert [t.name for t in first.tools] == [
        "add_to_cart",
        "remove_from_cart",
        "view_cart",
        "clear_cart",
        "checkout",
    ]
    assert isinstance(first.session, Session)


def test_an_interceptor_returning_the_wrong_type_fails_the_turn() -> None:
    def wrong(request: LLMRequest) -> str:
        request.session.set("touched", True)
        return "oops"

    response = Agent(tools=shop.agent.tools, request_interceptors=wrong).run(
        [user("view cart")], session={}
    )
    assert response.error == "TypeError: interceptor wrong returned str, expected LLMRequest"
    assert response.session == {}


def test_apply_interceptors_directly() -> None:
    async def double(response: LLMResponse) -> LLMResponse:
        response.text *= 2
        return response

    response = LLMResponse("ab", [{"id": "1", "name": "t", "input": {}}], session=Session())
    result = asyncio.run(apply_interceptors([double, double], response))
    assert result.text == "abababab"
    assert result.has_tool_calls()


# -- blocking ------------------------------------------------------------------------------


def test_a_request_interceptor_blocks_with_its_user_message() -> None:
    model = RecordingModel()

    def guard(request: LLMRequest) -> LLMRequest:
        if "checkout" in request.messages[-1]["content"]:
            raise InterceptorError("Checkout is disabled for this account.")
        return request

    agent = Agent(tools=shop.agent.tools, model=model, request_interceptors=guard)
    cart = {"cart": [{"item": "Widget", "quantity": 2}]}
    response = agent.run([user("checkout")], session=cart)
    assert response.blocked
    assert response.text == "Checkout is disabled for this account."
    assert response.error is None
    assert model.requests == []  # the model was never asked
    assert response.executed_tool_calls == []
    assert response.session == cart
    assert response.to_message()["content"] == "Checkout is disabled for this account."


def test_a_response_interceptor_blocks_after_tools_ran() -> None:
    def no_final_text(response: LLMResponse) -> LLMResponse:
        if not response.has_tool_calls():
            raise InterceptorError("The reply was withheld.")
        return response

    agent = Agent(tools=shop.agent.tools, response_interceptors=no_final_text)
    response = agent.run([user("add 2 Widgets to my cart")], session={})
    assert response.blocked
    assert response.text == "The reply was withheld."
    # The tool the model chose before the block ran, and its result stays.
    assert [c.name for c in response.executed_tool_calls] == ["add_to_cart"]
    assert response.session == {"cart": [{"item": "Widget", "quantity": 2}]}


@pytest.mark.parametrize("kind", ["request", "response"])
def test_async_interceptors_can_block(kind: str) -> None:
    async def block(value: Any) -> Any:
        raise InterceptorError(f"blocked at {kind}")

    interceptors: dict[str, Any] = {f"{kind}_interceptors": block}
    response = Agent(tools=shop.agent.tools, **interceptors).run([user("view cart")], session={})
    assert response.blocked
    assert response.text == f"blocked at {kind}"
