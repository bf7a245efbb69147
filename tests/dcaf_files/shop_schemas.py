"""A shop whose tools give their schemas as DCAF's docs show: a Pydantic model, a JSON
Schema dict, and a whole tool spec. DCAF's default asks before every tool, unless it
says `requires_approval=False`."""

from typing import Literal

from pydantic import BaseModel, Field

from dcaf.core import Agent, Session, serve
from dcaf.tools import tool


class AddItemInput(BaseModel):
    item: Literal["Widget", "Gadget"] = Field(..., description="What to add")
    quantity: int = Field(1, ge=1, le=10, description="How many")


@tool(schema=AddItemInput, requires_approval=False, description="Add an item to the cart")
def add_item(item: str, quantity: int, session: Session) -> str:
    cart = session.get("cart", [])
    cart.append({"item": item, "quantity": quantity})
    session.set("cart", cart)
    return f"Added {quantity}x {item}."


@tool(
    schema={
        "type": "object",
        "properties": {"item": {"type": "string", "description": "What to remove"}},
        "required": ["item"],
    },
    requires_approval=False,
)
def remove_item(item: str, session) -> str:
    """Remove an item from the cart."""
    cart = [line for line in session.get("cart", []) if line["item"] != item]
    session.set("cart", cart)
    return f"Removed {item}."


@tool(
    schema={
        "name": "place_order",
        "description": "Place the order for everything in the cart",
        "input_schema": {
            "type": "object",
            "properties": {"express": {"type": "boolean", "default": False}},
        },
    }
)
def checkout(express: bool, session: Session) -> str:
    cart = session.get("cart", [])
    session.delete("cart")
    speed = "express" if express else "standard"
    return f"Ordered {sum(line['quantity'] for line in cart)} items ({speed})."


agent = Agent(tools=[add_item, remove_item, checkout], system_prompt="You run a shop.")

if __name__ == "__main__":
    serve(agent)
