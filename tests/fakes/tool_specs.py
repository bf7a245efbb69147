"""The tool specs the provider tests send: a cart tool with arguments, and one without."""

from __future__ import annotations

from dcaf_cli.models.base import ToolSpec

CART_SCHEMA = {
    "type": "object",
    "properties": {"item": {"type": "string"}, "quantity": {"type": "integer"}},
    "required": ["item"],
}
ADD_TO_CART = ToolSpec("add_to_cart", "Add an item to the cart.", CART_SCHEMA)
GET_CART = ToolSpec("get_cart", "Show the cart.", {"type": "object", "properties": {}})
TOOLS = [ADD_TO_CART, GET_CART]
