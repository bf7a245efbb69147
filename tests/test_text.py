"""The text helpers every layer shares: one line, visible control characters, failures,
JSON kinds and pydantic's problems."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from dcaf_cli.errors import UsageError
from dcaf_cli.session.text import (
    error_location,
    exception_line,
    kind,
    one_line,
    shorten,
    validation_problems,
    visible_controls,
)


def test_visible_controls_keeps_tab_and_newline() -> None:
    assert visible_controls("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible_controls("\x07\x00\x7f\x9b\r") == "\\x07\\x00\\x7f\\x9b\\x0d"
    assert visible_controls("tab\tand\nnewline") == "tab\tand\nnewline"
    assert visible_controls("[red]ü ✅[/red]") == "[red]ü ✅[/red]"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("plain", "plain"),
        ("two\nlines\r\n and  a tab\t", "two lines and a tab"),
        ("ESC \x1b[2J here", "ESC \\x1b[2J here"),
        ("bidi \u202eevil", "bidi \\u202eevil"),
        ("a\u2028b", "a b"),  # a line separator is white space
        ("", ""),
    ],
)
def test_one_line(text: str, line: str) -> None:
    assert one_line(text) == line


def test_shorten_is_one_line_cut_with_an_ellipsis() -> None:
    assert shorten("a \n b\t\tc", 10) == "a b c"
    assert shorten("abcdefghij", 5) == "abcd…"
    assert shorten("abcdefghij", 10) == "abcdefghij"


def test_exception_line() -> None:
    assert exception_line(ValueError("bad\nvalue")) == "ValueError: bad value"
    assert exception_line(RuntimeError()) == "RuntimeError: (no message)"
    assert exception_line(UsageError("say what", hint="do this")) == "say what (do this)"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ({}, "an object"),
        ([], "a list"),
        ("x", "a string"),
        (True, "true/false"),
        (3, "a number"),
        (2.5, "a number"),
        (None, "null"),
        (b"x", "a bytes"),
    ],
)
def test_kind_names_json_types(value: object, name: str) -> None:
    assert kind(value) == name


class Item(BaseModel):
    name: str
    quantity: int


class Cart(BaseModel):
    items: list[Item]


def test_validation_problems_say_where_and_what() -> None:
    with pytest.raises(ValidationError) as caught:
        Cart.model_validate({"items": [{"name": "a", "quantity": "x"}, {"quantity": 1}]})
    first = (
        "items.0.quantity: Input should be a valid integer, unable to parse string as an integer"
    )
    assert validation_problems(caught.value, "cart") == first
    both = validation_problems(caught.value, "cart", limit=2)
    assert both == f"{first}; items.1.name: Field required"


def test_the_value_itself_is_named_by_the_caller() -> None:
    with pytest.raises(ValidationError) as caught:
        Item.model_validate("not an object")
    assert validation_problems(caught.value, "the item").startswith("the item: ")
    assert error_location((), "arguments") == "arguments"
    assert error_location(("a", 0, "b"), "arguments") == "a.0.b"
