"""shop: the shopping cart of the session guide.

Try: `add 2 widgets to my cart`, `what's in my cart?`, `checkout`.
"""

from __future__ import annotations

from dcaf_cli import Agent, Session, tool


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


agent = Agent(tools=[add_to_cart, view_cart, clear_cart, checkout], name="shop")
