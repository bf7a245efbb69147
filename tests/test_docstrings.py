"""parse_docstring: a tool's description and its parameters' descriptions (Google style)."""

from __future__ import annotations

import pytest

from dcaf_cli.tools.docstrings import parse_docstring


def test_no_docstring() -> None:
    assert parse_docstring(None) == ("", {})
    assert parse_docstring("") == ("", {})
    assert parse_docstring("   \n  ") == ("", {})


def test_summary_only() -> None:
    assert parse_docstring("Add an item to the user's cart.") == (
        "Add an item to the user's cart.",
        {},
    )


def test_summary_is_the_first_paragraph_joined_on_one_line() -> None:
    doc = """Add an item
    to the cart.

    More detail that the model does not need.
    """
    assert parse_docstring(doc) == ("Add an item to the cart.", {})


def test_google_args_section() -> None:
    doc = """Add an item to the cart.

    Args:
        item: What to add.
        quantity (int): How many; continuation lines
            are joined.
        note (str, optional): Free text: colons inside are kept.

    Returns:
        A confirmation line.
    """
    summary, params = parse_docstring(doc)
    assert summary == "Add an item to the cart."
    assert params == {
        "item": "What to add.",
        "quantity": "How many; continuation lines are joined.",
        "note": "Free text: colons inside are kept.",
    }


def test_first_line_on_the_quote_line_and_indented_rest() -> None:
    doc = "Book a room.\n\n    Args:\n        room: Room code.\n    "
    assert parse_docstring(doc) == ("Book a room.", {"room": "Room code."})


@pytest.mark.parametrize("header", ["Args", "Arguments", "Parameters", "Params"])
def test_argument_section_names(header: str) -> None:
    doc = f"Do it.\n\n{header}:\n    x: The x.\n"
    assert parse_docstring(doc) == ("Do it.", {"x": "The x."})


@pytest.mark.parametrize("header", ["Returns", "Raises", "Yields", "Example", "Examples", "Note"])
def test_other_sections_end_the_arguments(header: str) -> None:
    doc = f"Do it.\n\nArgs:\n    x: The x.\n\n{header}:\n    y: not a parameter.\n"
    assert parse_docstring(doc) == ("Do it.", {"x": "The x."})


def test_star_args_and_blank_lines_between_parameters() -> None:
    doc = """Run.

    Args:
        *args: Positional things.

        **kwargs: Named things.
    """
    assert parse_docstring(doc)[1] == {"args": "Positional things.", "kwargs": "Named things."}


def test_deeper_indented_line_that_looks_like_a_parameter_is_a_continuation() -> None:
    doc = """Configure.

    Args:
        options: A mapping, for example
            retries: 3
        mode: Fast or slow.
    """
    assert parse_docstring(doc)[1] == {
        "options": "A mapping, for example retries: 3",
        "mode": "Fast or slow.",
    }


def test_parameter_without_description() -> None:
    doc = "Run.\n\nArgs:\n    quiet:\n    level: How loud.\n"
    assert parse_docstring(doc)[1] == {"quiet": "", "level": "How loud."}


def test_section_header_inside_the_summary_text_is_not_a_section() -> None:
    doc = "Explain the Args: section.\n\n    Args:\n        a: The a.\n"
    assert parse_docstring(doc) == ("Explain the Args: section.", {"a": "The a."})
