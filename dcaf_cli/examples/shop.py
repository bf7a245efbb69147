"""shop: the shopping cart of the session guide.

Try: `add 2 widgets to my cart`, `remove 1 widget`, `what's in my cart?`, `checkout`.
Items are matched without regard to case: "widget" adds to a line of "Widget".
"""

from __future__ import annotations

from typing import Any

from dcaf_cli import Agent, Session, tool


@tool(description="Add item to shopping cart")
def add_to_cart(item: str, quantity: int, session: Session) -> str:
    """Add an item to the user's cart."""
    cart = session.get("cart", [])
    line = _line(cart, item)
    if line is None:
        cart.append({"item": item, "quantity": quantity})
    else:
        line["quantity"] += quantity
        item = line["item"]
    session.set("cart", cart)

    total_items = sum(i["quantity"] for i in cart)
    return f"Added {quantity}x {item}. Cart now has {_items(total_items)}."


@tool(description="Remove item from shopping cart")
def remove_from_cart(item: str, session: Session, quantity: int | None = None) -> str:
    """Take some of an item out of the cart, or all of it without a quantity."""
    cart = session.get("cart", [])
    line = _line(cart, item)
    if line is None:
        raise ValueError(f"there is no {item!r} in the cart")
    if quantity is None or quantity >= line["quantity"]:
        cart.remove(line)
        removed = line["quantity"]
    else:
        line["quantity"] -= quantity
        removed = quantity
    session.set("cart", cart)
    total_items = sum(i["quantity"] for i in cart)
    return f"Removed {removed}x {line['item']}. Cart now has {_items(total_items)}."


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _line(cart: list[dict[str, Any]], item: str) -> dict[str, Any] | None:
    """The cart's line for `item`, whatever its case ("widgets" finds "Widget" too)."""
    wanted = _key(item)
    return next((line for line in cart if _key(str(line["item"])) == wanted), None)


def _key(item: str) -> str:
    return item.casefold().strip().removesuffix("s")


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
    lines.append(f"Total: {_items(total)}")
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

    return f"✅ Order placed! {_items(total_items)} will be shipped."


agent = Agent(tools=[add_to_cart, remove_from_cart, view_cart, clear_cart, checkout], name="shop")
