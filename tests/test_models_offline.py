"""The offline model: every rule of its docstring, and that it is deterministic."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any, Literal

import pytest

from dcaf_cli import Agent, Session, Tool, tool
from dcaf_cli.examples import deploy, notes, shop
from dcaf_cli.models import resolve_model
from dcaf_cli.models.base import NOT_RUN, Message, ModelReply, ModelRequest, ToolSpec
from dcaf_cli.models.offline import OfflineModel


def specs(tools: list[Tool[..., Any]]) -> list[ToolSpec]:
    return [ToolSpec(t.name, t.description, t.parameters) for t in tools]


def ask(text: str, tools: list[Tool[..., Any]]) -> ModelReply:
    return OfflineModel().reply(ModelRequest("", [Message("user", text)], specs(tools)))


def chosen(text: str, tools: list[Tool[..., Any]]) -> tuple[str, dict[str, Any], bool]:
    reply = ask(text, tools)
    [call] = reply.tool_calls
    assert reply.text == ""
    return call.name, call.arguments, reply.ask_missing


SHOP = shop.agent.tools
NOTES = notes.agent.tools
DEPLOY = deploy.agent.tools


def test_it_is_the_default_model() -> None:
    assert resolve_model("offline").name == "offline"
    assert isinstance(resolve_model("offline"), OfflineModel)


# -- rule 1: after tools ran, the reply is their output ----------------------------------------


def test_after_tools_the_reply_is_their_output_errors_included() -> None:
    messages = [
        Message("user", "do both"),
        Message("assistant", ""),
        Message("tool", "Added 2x Widget.", tool_name="add_to_cart"),
        Message("tool", "cart is locked", tool_name="checkout", is_error=True),
    ]
    reply = OfflineModel().reply(ModelRequest("", messages, specs(SHOP)))
    assert reply.text == "Added 2x Widget.\ncheckout failed: cart is locked"
    assert reply.tool_calls == []


def test_a_rejected_call_is_said_to_have_not_run_not_to_have_failed() -> None:
    messages = [
        Message("user", "execute the deployment"),
        Message("assistant", ""),
        Message("tool", NOT_RUN + "not on a Friday", tool_name="execute", is_error=True),
    ]
    reply = OfflineModel().reply(ModelRequest("", messages, specs(SHOP)))
    assert reply.text == "execute was not run: not on a Friday"


def test_only_the_latest_run_of_tool_results_is_the_reply() -> None:
    messages = [
        Message("tool", "old", tool_name="a"),
        Message("user", "again"),
        Message("tool", "new", tool_name="a"),
    ]
    assert OfflineModel().reply(ModelRequest("", messages, [])).text == "new"


# -- rule 2: the slash form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ("/add_to_cart Widget 2", {"item": "Widget", "quantity": 2}),
        ("/add_to_cart item=Widget quantity=2", {"item": "Widget", "quantity": 2}),
        ("/add_to_cart quantity=2 Widget", {"item": "Widget", "quantity": 2}),
        ('/add_to_cart "Blue Widget" 2', {"item": "Blue Widget", "quantity": 2}),
        ("/add_to_cart Widget", {"item": "Widget"}),
        ("/view_cart", {}),
    ],
)
def test_slash_calls(text: str, arguments: dict[str, Any]) -> None:
    name = text.split(maxsplit=1)[0][1:]
    assert chosen(text, SHOP) == (name, arguments, False)


def test_a_slash_call_to_an_unknown_tool_lists_the_tools() -> None:
    reply = ask("/nope 1 2", SHOP)
    assert reply.tool_calls == []
    assert reply.text == (
        "There is no tool named 'nope'. I match what you type to a tool. Try one of: "
        "/add_to_cart, /remove_from_cart, /view_cart, /clear_cart, /checkout (or /help)."
    )


# -- rule 3: free text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        ("add 2 Widgets to my cart", "add_to_cart", {"item": "Widget", "quantity": 2}),
        ("Add 3 gadgets", "add_to_cart", {"item": "gadget", "quantity": 3}),
        ("what's in my cart?", "view_cart", {}),
        ("show me the cart", "view_cart", {}),
        ("checkout", "checkout", {}),
        ("clear the cart", "clear_cart", {}),
    ],
)
def test_free_text_picks_the_tool_sharing_most_words(
    text: str, name: str, arguments: dict[str, Any]
) -> None:
    assert chosen(text, SHOP) == (name, arguments, False)


def test_ties_go_to_the_call_missing_fewest_arguments_then_to_the_first_tool() -> None:
    # "cart" is in add_to_cart, view_cart and clear_cart alike; add_to_cart would miss two
    # required arguments, view_cart and clear_cart none, and view_cart is listed first.
    assert chosen("cart", SHOP)[0] == "view_cart"
    assert chosen("cart", [shop.clear_cart, shop.view_cart])[0] == "clear_cart"


def test_scoring_uses_description_and_parameter_words() -> None:
    @tool(description="Look up the weather forecast")
    def forecast(city: str) -> str:
        return city

    @tool(description="Convert an amount between currencies")
    def convert(amount: float, currency: str) -> str:
        return currency

    tools: list[Tool[..., Any]] = [forecast, convert]
    assert chosen("weather in Paris", tools)[0] == "forecast"  # a description word
    assert chosen("city Paris", tools) == ("forecast", {"city": "Paris"}, False)  # a parameter
    assert chosen("forecast for Paris", tools) == ("forecast", {"city": "Paris"}, False)
    assert chosen("12.5 in currency EUR", tools) == (
        "convert",
        {"amount": 12.5, "currency": "EUR"},
        False,
    )


class Size(Enum):
    SMALL = "small"
    LARGE = "large"


def test_choices_fill_literal_and_enum_parameters() -> None:
    @tool
    def order(size: Size, drink: Literal["tea", "coffee"]) -> str:
        return "ok"

    assert chosen("order a LARGE coffee", [order]) == (
        "order",
        {"size": "large", "drink": "coffee"},
        False,
    )
    assert chosen("start a deployment to production", DEPLOY) == (
        "start_deployment",
        {"environment": "production"},
        False,
    )


def test_choice_words_alone_pick_the_tool() -> None:
    assert chosen("staging please", DEPLOY)[:2] == ("start_deployment", {"environment": "staging"})


def test_numbers_fill_numeric_parameters_in_order_by_type() -> None:
    @tool(description="Book a room")
    def book(nights: int, guests: int, budget: float) -> str:
        return "ok"

    assert chosen("book 3 nights 2 guests 120.5", [book]) == (
        "book",
        {"nights": 3, "guests": 2, "budget": 120.5},
        False,
    )


def test_numbers_no_numeric_parameter_took_are_words() -> None:
    assert chosen("remember zip is 02134", NOTES) == (
        "remember",
        {"key": "zip", "value": "02134"},
        False,
    )
    assert chosen("add service api 1.4.2", DEPLOY) == (
        "add_service",
        {"service_name": "api", "version": "1.4.2"},
        False,
    )


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("add 2 widgets", "widget"),
        ("add 3 batteries", "battery"),
        ("add 2 glasses", "glass"),
        ("add 4 boxes", "box"),
        ("add 1 widgets", "widgets"),  # a count of one is not a plural count
        ("add 2 grass", "grass"),
    ],
)
def test_a_plural_after_a_count_is_made_singular(text: str, item: str) -> None:
    assert chosen(text, SHOP)[1]["item"] == item


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("remember color is blue", "color", "blue"),
        ("remember color = blue", "color", "blue"),
        ("remember color=blue", "color", "blue"),
        ("remember zip to 02134", "zip", "02134"),
        ("remember my favorite color is dark blue", "favorite color", "dark blue"),
        ('remember "favorite color" "dark blue"', "favorite color", "dark blue"),
        ("remember color blue", "color", "blue"),
        ("remember color dark blue", "color", "dark blue"),
    ],
)
def test_x_is_y_splits_two_string_parameters(text: str, key: str, value: str) -> None:
    assert chosen(text, NOTES) == ("remember", {"key": key, "value": value}, False)


def test_one_string_parameter_takes_all_remaining_words() -> None:
    assert chosen("recall favorite color", NOTES) == ("recall", {"key": "favorite color"}, False)


def test_missing_required_arguments_are_sent_with_ask_missing() -> None:
    assert chosen("add widget", SHOP) == ("add_to_cart", {"item": "widget"}, True)
    assert chosen("start a deployment", DEPLOY) == ("start_deployment", {}, True)


def test_missing_arguments_pause_the_turn_for_the_user() -> None:
    response = deploy.agent.run([{"role": "user", "content": "start a deployment"}], session={})
    [pending] = response.pending_tool_calls
    assert pending.reason == "missing_arguments"
    assert pending.missing == ["environment"]
    assert response.executed_tool_calls == []
    assert response.session == {}


def test_missing_optional_arguments_do_not_pause() -> None:
    @tool(description="Search the catalogue")
    def search(query: str, limit: int = 10, session: Session | None = None) -> str:
        return f"{query}:{limit}"

    assert chosen("search lamps", [search]) == ("search", {"query": "lamps"}, False)
    response = Agent(tools=[search]).run([{"role": "user", "content": "search lamps"}])
    assert response.text == "lamps:10"


# -- rule 4: anything else ---------------------------------------------------------------------


def test_anything_else_gets_the_menu() -> None:
    reply = ask("good morning", SHOP)
    assert reply.tool_calls == []
    assert reply.text == (
        "I match what you type to a tool. Try one of: "
        "/add_to_cart, /remove_from_cart, /view_cart, /clear_cart, /checkout (or /help)."
    )
    assert ask("", SHOP).text == reply.text


def test_an_agent_without_tools_says_so() -> None:
    assert ask("hello", []).text == "This agent has no tools."
    assert OfflineModel().reply(ModelRequest("", [], [])).text == "This agent has no tools."


# -- determinism and the model interface --------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["add 2 Widgets to my cart", "what's in my cart?", "good morning", "add widget"]
)
def test_it_is_deterministic(text: str) -> None:
    replies = {repr(ask(text, SHOP)) for _ in range(5)}
    assert len(replies) == 1


def test_complete_streams_the_text_once() -> None:
    deltas: list[str] = []
    request = ModelRequest("", [Message("user", "hello")], specs(SHOP))
    reply = asyncio.run(OfflineModel().complete(request, deltas.append))
    assert deltas == [reply.text]
    assert reply.usage is None
    deltas.clear()
    request = ModelRequest("", [Message("user", "view cart")], specs(SHOP))
    asyncio.run(OfflineModel().complete(request, deltas.append))
    assert deltas == []  # a tool call has no text to stream


def test_a_tool_spec_with_a_new_schema_is_read_anew() -> None:
    """What the model reads from a spec is remembered per schema object: a spec of the
    same name with another schema (an interceptor's, a reloaded tool's) is read afresh."""
    schema = {"type": "object", "properties": {"size": {"type": "integer"}}}
    first = ToolSpec("order", "Order a pizza", schema)
    other = ToolSpec(
        "order", "Order a pizza", {**schema, "properties": {"city": {"type": "string"}}}
    )
    model = OfflineModel()
    expectations = [(first, {"size": 3}), (other, {"city": "3 Paris"}), (first, {"size": 3})]
    for spec, expected in expectations:
        reply = model.reply(ModelRequest("", [Message("user", "order 3 Paris")], [spec]))
        assert reply.tool_calls[0].arguments == expected
