"""@tool: the tool examples of DCAF's Session guide (imports changed to dcaf_cli), then
DESIGN.md section 4.

No `from __future__ import annotations` here: tools are written the way the guide writes
them, with live annotations.
"""

import asyncio
import json
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from dcaf_cli import Session, Tool, tool
from dcaf_cli.errors import ToolArgumentError, ToolDefinitionError

# -- guide: Basic Example -----------------------------------------------------------------


@tool(description="Remember a value")
def remember(key: str, value: str, session: Session) -> str:
    """Store a value in session."""
    session.set(key, value)
    return f"Remembered {key}={value}"


@tool(description="Recall a value")
def recall(key: str, session: Session) -> str:
    """Retrieve a value from session."""
    value = session.get(key)
    if value is None:
        return f"I don't remember '{key}'"
    return f"{key} is '{value}'"


def test_guide_remember_and_recall() -> None:
    session = Session()
    assert remember.invoke({"key": "color", "value": "blue"}, session) == "Remembered color=blue"
    assert session.to_dict() == {"color": "blue"}
    assert recall.invoke({"key": "color"}, session) == "color is 'blue'"
    assert recall.invoke({"key": "size"}, session) == "I don't remember 'size'"
    assert remember.description == "Remember a value"
    assert set(remember.parameters["properties"]) == {"key", "value"}


# -- guide: Shopping Cart Example ---------------------------------------------------------


@tool(description="Add item to shopping cart")
def add_to_cart(item: str, quantity: int, session: Session) -> str:
    """Add an item to the user's cart."""
    cart = session.get("cart", [])
    cart.append({"item": item, "quantity": quantity})
    session.set("cart", cart)

    total_items = sum(i["quantity"] for i in cart)
    return f"Added {quantity}x {item}. Cart now has {total_items} items."


@tool(description="View shopping cart contents")
def view_cart(session: Session) -> str:
    """Show what's in the cart."""
    cart = session.get("cart", [])

    if not cart:
        return "Your cart is empty."

    lines = ["Your cart contains:"]
    for item in cart:
        lines.append(f"  - {item['quantity']}x {item['item']}")

    total = sum(i["quantity"] for i in cart)
    lines.append(f"Total: {total} items")
    return "\n".join(lines)


@tool(description="Clear the shopping cart")
def clear_cart(session: Session) -> str:
    """Remove all items from the cart."""
    session.delete("cart")
    return "Cart cleared."


@tool(description="Checkout and complete purchase")
def checkout(session: Session) -> str:
    """Complete the purchase."""
    cart = session.get("cart", [])

    if not cart:
        return "Cannot checkout - cart is empty."

    total_items = sum(i["quantity"] for i in cart)
    session.delete("cart")  # Clear after checkout

    return f"✅ Order placed! {total_items} items will be shipped."


def next_turn(session: Session) -> Session:
    """What the protocol does between turns: the session travels as JSON and comes back."""
    return Session.from_dict(json.loads(json.dumps(session.to_dict())))


def test_guide_session_lifecycle() -> None:
    # Turn 1
    session = Session()
    reply = add_to_cart.invoke({"item": "Widget", "quantity": 2}, session)
    assert reply == "Added 2x Widget. Cart now has 2 items."
    assert session.to_dict() == {"cart": [{"item": "Widget", "quantity": 2}]}

    # Turn 2
    session = next_turn(session)
    assert session.to_dict() == {"cart": [{"item": "Widget", "quantity": 2}]}
    reply = add_to_cart.invoke({"item": "Gadget", "quantity": 3}, session)
    assert reply == "Added 3x Gadget. Cart now has 5 items."
    assert session.to_dict() == {
        "cart": [{"item": "Widget", "quantity": 2}, {"item": "Gadget", "quantity": 3}]
    }

    # Turn 3
    session = next_turn(session)
    assert view_cart.invoke({}, session) == (
        "Your cart contains:\n  - 2x Widget\n  - 3x Gadget\nTotal: 5 items"
    )
    assert checkout.invoke({}, session) == "✅ Order placed! 5 items will be shipped."
    assert session.to_dict() == {}

    # Turn 4
    session = next_turn(session)
    assert view_cart.invoke({}, session) == "Your cart is empty."
    assert checkout.invoke({}, session) == "Cannot checkout - cart is empty."


def test_guide_clear_cart() -> None:
    session = Session({"cart": [{"item": "Widget", "quantity": 2}], "user": "ann"})
    assert clear_cart.invoke({}, session) == "Cart cleared."
    assert session.to_dict() == {"user": "ann"}
    assert clear_cart.invoke({}, session) == "Cart cleared."  # nothing to clear is fine


# -- guide: Multi-Step Workflow Example ---------------------------------------------------


@tool(description="Start a deployment workflow")
def start_deployment(environment: Literal["staging", "production"], session: Session) -> str:
    """Initialize a deployment workflow."""
    session.set(
        "deployment",
        {
            "environment": environment,
            "step": "started",
            "services": [],
        },
    )
    return f"Deployment workflow started for {environment}. Add services to deploy."


@tool(description="Add a service to the deployment")
def add_service(service_name: str, version: str, session: Session) -> str:
    """Add a service to the pending deployment."""
    deployment = session.get("deployment")

    if not deployment:
        return "No deployment in progress. Run start_deployment first."

    deployment["services"].append(
        {
            "name": service_name,
            "version": version,
        }
    )
    deployment["step"] = "services_added"
    session.set("deployment", deployment)

    return (
        f"Added {service_name}:{version} to deployment. "
        f"{len(deployment['services'])} services total."
    )


@tool(requires_approval=True, description="Execute the deployment")
def execute_deployment(session: Session) -> str:
    """Execute the pending deployment (requires approval)."""
    deployment = session.get("deployment")

    if not deployment:
        return "No deployment in progress."

    if not deployment.get("services"):
        return "No services to deploy. Add services first."

    env = deployment["environment"]
    services = deployment["services"]

    # Simulate deployment
    results = []
    for svc in services:
        results.append(f"✅ Deployed {svc['name']}:{svc['version']} to {env}")

    # Clear deployment state
    session.delete("deployment")

    return "\n".join(results)


def test_guide_deployment_workflow() -> None:
    session = Session()
    assert execute_deployment.invoke({}, session) == "No deployment in progress."
    assert add_service.invoke({"service_name": "api", "version": "1.2"}, session) == (
        "No deployment in progress. Run start_deployment first."
    )

    assert start_deployment.invoke({"environment": "staging"}, session) == (
        "Deployment workflow started for staging. Add services to deploy."
    )
    assert session["deployment"] == {"environment": "staging", "step": "started", "services": []}
    assert execute_deployment.invoke({}, session) == "No services to deploy. Add services first."

    assert add_service.invoke({"service_name": "api", "version": "1.2"}, session) == (
        "Added api:1.2 to deployment. 1 services total."
    )
    assert add_service.invoke({"service_name": "web", "version": "3.0"}, session) == (
        "Added web:3.0 to deployment. 2 services total."
    )
    assert session["deployment"] == {
        "environment": "staging",
        "step": "services_added",
        "services": [{"name": "api", "version": "1.2"}, {"name": "web", "version": "3.0"}],
    }

    assert execute_deployment.invoke({}, session) == (
        "✅ Deployed api:1.2 to staging\n✅ Deployed web:3.0 to staging"
    )
    assert session.to_dict() == {}


def test_guide_deployment_approval_flags() -> None:
    assert execute_deployment.requires_approval is True
    assert start_deployment.requires_approval is False
    assert add_service.requires_approval is False


def test_start_deployment_schema() -> None:
    schema = start_deployment.parameters
    assert schema == {
        "type": "object",
        "properties": {"environment": {"type": "string", "enum": ["staging", "production"]}},
        "required": ["environment"],
    }
    assert "session" not in json.dumps(schema)
    assert start_deployment.wants_session
    assert [p.name for p in start_deployment.params] == ["environment"]
    assert start_deployment.params[0].choices == ("staging", "production")


def test_literal_is_enforced_at_invoke() -> None:
    session = Session()
    with pytest.raises(ToolArgumentError, match="'environment'") as info:
        start_deployment.invoke({"environment": "prod"}, session)
    assert info.value.tool == "start_deployment"
    assert session.is_empty


# -- guide: Best Practices 2 --------------------------------------------------------------


def process(data: Any) -> str:
    return f"processed {data['n']} records"


@tool(description="Complete the workflow")
def finish_workflow(session: Session) -> str:
    # Process the workflow...
    result = process(session.get("workflow_data"))

    # Clean up session state
    session.delete("workflow_data")
    session.delete("workflow_step")

    return result


def test_guide_finish_workflow_cleans_up() -> None:
    session = Session({"workflow_data": {"n": 3}, "workflow_step": 2, "user": "ann"})
    assert finish_workflow.invoke({}, session) == "processed 3 records"
    assert session.to_dict() == {"user": "ann"}


# -- schemas -----------------------------------------------------------------------------


class Priority(Enum):
    LOW = "low"
    HIGH = "high"


class Address(BaseModel):
    street: str
    city: str = "Springfield"


class Customer(BaseModel):
    name: str
    address: Address
    previous: list[Address] = []


@dataclass
class Point:
    x: int
    y: int


def refs_in(schema: Any) -> list[str]:
    text = json.dumps(schema)
    return [part.split('"')[0] for part in text.split('"$ref": "')[1:]]


def test_schema_types_are_inlined_and_precise() -> None:
    @tool
    def place(
        *,
        priority: Priority,
        customer: Customer,
        lines: list[Address],
        at: Point,
        note: str | None = None,
        count: int = 1,
        legacy: Optional[int] = None,  # noqa: UP045 - the guide's spelling works too
        mode: Literal["fast", "slow"] = "fast",
    ) -> None:
        """Place an order."""

    schema = place.parameters
    props = schema["properties"]
    assert schema["required"] == ["priority", "customer", "lines", "at"]
    assert props["priority"]["enum"] == ["low", "high"]
    assert props["priority"]["type"] == "string"
    assert props["customer"]["type"] == "object"
    assert props["customer"]["required"] == ["name", "address"]
    assert props["customer"]["properties"]["address"]["properties"]["street"] == {"type": "string"}
    assert props["customer"]["properties"]["previous"]["items"]["properties"]["city"] == {
        "type": "string",
        "default": "Springfield",
    }
    assert props["lines"]["type"] == "array"
    assert props["lines"]["items"]["required"] == ["street"]
    assert props["at"]["properties"] == {"x": {"type": "integer"}, "y": {"type": "integer"}}
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert props["legacy"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert props["count"] == {"type": "integer", "default": 1}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"], "default": "fast"}
    assert refs_in(schema) == []
    assert "$defs" not in schema
    assert '"title"' not in json.dumps(schema)
    assert place.description == "Place an order."


def test_schema_keeps_data_that_looks_like_schema_keywords() -> None:
    @tool
    def greet(
        person: dict[str, str] = {"title": "Dr"},  # noqa: B006 - never mutated
        title: str = "hello",
    ) -> str:
        return f"{title} {person['title']}"

    props = greet.parameters["properties"]
    assert props["person"]["default"] == {"title": "Dr"}
    assert props["title"] == {"type": "string", "default": "hello"}
    assert greet.invoke({}) == "hello Dr"


class Node(BaseModel):
    label: str
    leaf: Address
    children: list["Node"] = []


def test_schema_of_a_recursive_model_keeps_resolvable_refs() -> None:
    @tool
    def walk(tree: Node) -> int:
        return len(tree.children)

    schema = walk.parameters
    refs = refs_in(schema)
    assert refs  # a recursive model cannot be fully inlined
    for ref in refs:
        assert ref.removeprefix("#/$defs/") in schema["$defs"]
    node = schema["$defs"]["Node"]
    assert node["properties"]["leaf"]["properties"]["street"] == {"type": "string"}
    tree = {
        "label": "a",
        "leaf": {"street": "s"},
        "children": [{"label": "b", "leaf": {"street": "t"}}],
    }
    assert walk.invoke({"tree": tree}) == 1


def test_descriptions_from_annotated_field_and_docstring() -> None:
    @tool
    def book(
        room: Annotated[str, Field(description="Room code, like B2")],
        nights: int,
        guests: Annotated[int, Field(description="From Annotated", ge=1)] = 1,
        note: str = "",
    ) -> None:
        """Book a room.

        Longer text that is not part of the description.

        Args:
            room: ignored, Annotated wins
            nights (int): How many nights;
                continued on the next line.
            guests: ignored too
        """

    props = book.parameters["properties"]
    assert book.description == "Book a room."
    assert props["room"]["description"] == "Room code, like B2"
    assert props["nights"]["description"] == "How many nights; continued on the next line."
    assert props["guests"]["description"] == "From Annotated"
    assert props["guests"]["minimum"] == 1
    assert "description" not in props["note"]
    assert [p.description for p in book.params] == [
        "Room code, like B2",
        "How many nights; continued on the next line.",
        "From Annotated",
        "",
    ]


# -- the decorator -----------------------------------------------------------------------


def test_bare_and_configured_decorator() -> None:
    @tool
    def ping() -> str:
        """Check the line.

        Args:
            nothing: there are no args
        """
        return "pong"

    @tool(name="lookup", description="Find a thing")
    def find(q: str) -> str:
        return q

    @tool()
    def unnamed_helper() -> None:
        pass

    assert isinstance(ping, Tool)
    assert (ping.name, ping.description, ping.requires_approval) == (
        "ping",
        "Check the line.",
        False,
    )
    assert ping.parameters == {"type": "object", "properties": {}}
    assert (find.name, find.description) == ("lookup", "Find a thing")
    assert unnamed_helper.description == "unnamed helper"
    assert ping.invoke() == "pong"
    assert not ping.wants_session


def test_decorated_function_is_still_callable_as_itself() -> None:
    session = Session()
    assert add_to_cart("Widget", 2, session) == "Added 2x Widget. Cart now has 2 items."
    assert add_to_cart(item="Gadget", quantity=1, session=session) == (
        "Added 1x Gadget. Cart now has 3 items."
    )
    assert remember.__name__ == "remember"  # type: ignore[attr-defined]  # set by functools.wraps
    assert remember.__doc__ == "Store a value in session."
    assert recall.__wrapped__("nope", Session()) == "I don't remember 'nope'"  # type: ignore[attr-defined]


def bad_name(store: Session) -> None: ...
def bad_type(session: dict[str, Any]) -> None: ...
def in_a_list(sessions: list[Session]) -> None: ...
def unknown_hint(x: "NoSuchType") -> None: ...  # type: ignore[name-defined] # noqa: F821


class Opaque:
    pass


def opaque(x: Opaque) -> None: ...


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (bad_name, r"'store' is typed Session.*rename it to `session: Session`"),
        (bad_type, r"'session' is reserved.*annotate it `session: Session`.*or rename it"),
        (in_a_list, r"'sessions'.*only as `session: Session`"),
        (unknown_hint, r"cannot read its type hints.*NoSuchType"),
        (opaque, r"'opaque'.*parameter type cannot be used.*Opaque"),
    ],
)
def test_bad_signatures_fail_at_decoration(fn: Any, message: str) -> None:
    with pytest.raises(ToolDefinitionError, match=message) as info:
        tool(fn)
    assert isinstance(info.value, TypeError)
    assert "\n" not in str(info.value)
    with pytest.raises(ToolDefinitionError):
        tool(description="configured")(fn)


def test_dcaf_signatures_load_as_in_dcaf() -> None:
    """An unannotated `session` is the session, `**kwargs` takes the arguments beyond the
    named ones, `*args` is never filled and `platform_context` is injected."""

    @tool
    def note(text: str, session, *args: int, **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
        session.set("note", text)
        return f"{text} {sorted(kwargs.items())} {args}"

    assert set(note.parameters["properties"]) == {"text"}
    live = Session()
    assert note.invoke({"text": "hi", "tag": "x"}, live) == "hi [('tag', 'x')] ()"
    assert live.to_dict() == {"note": "hi"}

    @tool
    def whoami(platform_context: dict[str, Any]) -> str:
        return str(platform_context.get("tenant_name"))

    assert whoami.parameters["properties"] == {}
    assert whoami.requires_platform_context
    assert whoami.invoke({}, context={"tenant_name": "acme"}) == "acme"
    assert whoami.invoke({}) == "None"
    with pytest.raises(ToolArgumentError, match="unknown argument 'tag'"):
        whoami.invoke({"tag": 1})


def test_optional_session_is_injected() -> None:
    @tool
    def count(session: Session | None = None) -> int:
        assert session is not None
        n: int = session.get("n", 0) + 1
        session.set("n", n)
        return n

    session = Session()
    assert count.invoke({}, session) == 1
    assert count.invoke({}, session) == 2
    assert count.parameters["properties"] == {}
    assert count.invoke({}) == 1  # no session given: a fresh one


# -- arguments ---------------------------------------------------------------------------


def test_arguments_are_coerced() -> None:
    session = Session()
    add_to_cart.invoke({"item": "Widget", "quantity": "2"}, session)
    assert session["cart"] == [{"item": "Widget", "quantity": 2}]
    assert type(session["cart"][0]["quantity"]) is int
    assert add_to_cart.validate({"item": "W", "quantity": "3"}) == {"item": "W", "quantity": 3}


def test_model_and_enum_arguments_arrive_typed() -> None:
    seen: dict[str, Any] = {}

    @tool
    def ship(customer: Customer, priority: Priority, at: Point) -> str:
        seen.update(customer=customer, priority=priority, at=at)
        return customer.address.city

    result = ship.invoke(
        {
            "customer": {"name": "Ann", "address": {"street": "Main"}},
            "priority": "high",
            "at": {"x": "1", "y": 2},
        }
    )
    assert result == "Springfield"
    assert type(seen["customer"]) is Customer
    assert seen["priority"] is Priority.HIGH
    assert seen["at"] == Point(1, 2)


def test_invalid_argument_is_named_and_session_untouched() -> None:
    session = Session({"cart": []})
    with pytest.raises(
        ToolArgumentError, match=r"add_to_cart: argument 'quantity'.*'many'"
    ) as info:
        add_to_cart.invoke({"item": "Widget", "quantity": "many"}, session)
    assert info.value.missing == []
    assert info.value.problems == [info.value.problems[0]]
    assert session.to_dict() == {"cart": []}
    assert not session.is_modified


def test_missing_arguments_are_listed() -> None:
    with pytest.raises(ToolArgumentError, match="missing required argument 'item'") as info:
        add_to_cart.invoke({}, Session())
    assert info.value.missing == ["item", "quantity"]
    assert add_to_cart.missing({"quantity": 1}) == ["item"]
    assert add_to_cart.missing(None) == ["item", "quantity"]


def test_unknown_arguments_are_rejected() -> None:
    with pytest.raises(ToolArgumentError, match="unknown argument 'colour'"):
        add_to_cart.invoke({"item": "Widget", "quantity": 1, "colour": "red"}, Session())


def test_the_model_cannot_pass_the_session() -> None:
    session = Session({"safe": True})
    with pytest.raises(ToolArgumentError, match="unknown argument 'session'"):
        view_cart.invoke({"session": {"cart": [{"item": "x", "quantity": 9}]}}, session)
    assert session.to_dict() == {"safe": True}


# -- async tools -------------------------------------------------------------------------


@tool
async def slow_remember(key: str, value: int, session: Session) -> str:
    """Remember after a pause."""
    await asyncio.sleep(0)
    session.set(key, value)
    return f"{key}={value}"


def test_async_tool_via_ainvoke_and_invoke() -> None:
    session = Session()
    assert slow_remember.is_async
    assert asyncio.run(slow_remember.ainvoke({"key": "a", "value": "1"}, session)) == "a=1"
    assert slow_remember.invoke({"key": "b", "value": 2}, session) == "b=2"
    assert session.to_dict() == {"a": 1, "b": 2}


def test_sync_tool_via_ainvoke() -> None:
    session = Session()
    result = asyncio.run(add_to_cart.ainvoke({"item": "W", "quantity": 1}, session))
    assert result == "Added 1x W. Cart now has 1 items."
    assert session["cart"] == [{"item": "W", "quantity": 1}]


def test_invoke_of_an_async_tool_inside_a_running_loop_says_what_to_do() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"await tool\.ainvoke"):
            slow_remember.invoke({"key": "a", "value": 1}, Session())

    asyncio.run(main())  # and no "coroutine was never awaited" warning (warnings are errors)


# -- a failing tool leaves no trace ------------------------------------------------------


@tool
def wreck(session: Session) -> str:
    """Change everything, then fail."""
    session.set("cart", [{"item": "Bomb", "quantity": 1}])
    session.delete("user")
    session.set("new", 1)
    session.clear()
    session.set("user", "mallory")
    raise ValueError("tool failed")


@tool
async def awreck(session: Session) -> str:
    """The same, asynchronously."""
    session.set("cart", [])
    await asyncio.sleep(0)
    session.delete("user")
    raise ValueError("tool failed")


@tool
async def hang(session: Session) -> str:
    session.set("cart", [])
    await asyncio.sleep(3600)
    return "never"


def start_state() -> Session:
    return Session({"user": "ann", "cart": [{"item": "Widget", "quantity": 2}], "n": 1})


def snapshot(session: Session) -> str:
    return json.dumps(session.to_dict())  # values and key order


def test_sync_tool_that_raises_leaves_the_session_as_it_was() -> None:
    session = start_state()
    before = snapshot(session)
    with pytest.raises(ValueError, match="tool failed"):
        wreck.invoke({}, session)
    assert snapshot(session) == before
    assert not session.is_modified


def test_async_tool_that_raises_leaves_the_session_as_it_was() -> None:
    session = start_state()
    before = snapshot(session)
    with pytest.raises(ValueError, match="tool failed"):
        asyncio.run(awreck.ainvoke({}, session))
    with pytest.raises(ValueError, match="tool failed"):
        awreck.invoke({}, session)
    assert snapshot(session) == before
    assert not session.is_modified


def test_cancelled_async_tool_leaves_the_session_as_it_was() -> None:
    session = start_state()
    before = snapshot(session)

    async def main() -> None:
        task = asyncio.create_task(hang.ainvoke({}, session))
        await asyncio.sleep(0.01)
        assert session["cart"] == []  # the tool really changed it before hanging
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert snapshot(session) == before


def test_a_failing_tool_rolls_back_only_its_own_changes_in_a_turn() -> None:
    session = start_state()
    with session.transaction() as turn:
        add_to_cart.invoke({"item": "Gadget", "quantity": 1}, session)
        with pytest.raises(ValueError, match="tool failed"):
            wreck.invoke({}, session)
        assert session["cart"][-1] == {"item": "Gadget", "quantity": 1}
        assert session["user"] == "ann"
        assert set(turn.changes()) == {"cart"}
