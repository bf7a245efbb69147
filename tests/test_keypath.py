"""Paths into session data as people type them (`dcaf_cli.session.keypath`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcaf_cli.errors import UsageError
from dcaf_cli.session.diff import diff_sessions
from dcaf_cli.session.keypath import format_key_path, lookup, parse_key_path, resolve

DATA: dict[str, Any] = {
    "cart": [{"item": "Widget"}, {"item": "Gadget"}],
    "prefs": {"a.b": 1, "0": "zero", "x": None},
    "v1.2": "dotted top-level key",
    "name": "Ann",
}


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("cart", ("cart",)),
        ("cart[0].item", ("cart", 0, "item")),
        ("cart.0.item", ("cart", "0", "item")),
        ("cart[-1]", ("cart", -1)),
        ('prefs["a.b"]', ("prefs", "a.b")),
        ("prefs['a.b']", ("prefs", "a.b")),
        ('["odd]key"].x', ("odd]key", "x")),
    ],
)
def test_parse(text: str, steps: tuple[Any, ...]) -> None:
    assert parse_key_path(text) == steps


@pytest.mark.parametrize("text", ["", "[0]", "a..b", "a.", "cart[0]x", 'a["b', ".a"])
def test_parse_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(UsageError):
        parse_key_path(text)


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("cart[1].item", ("cart", 1, "item"), "Gadget"),
        ("cart.1.item", ("cart", 1, "item"), "Gadget"),
        ("cart[-2]", ("cart", 0), {"item": "Widget"}),
        ("prefs.0", ("prefs", "0"), "zero"),  # digits name a key in an object
        ('prefs["a.b"]', ("prefs", "a.b"), 1),
        ("prefs.x", ("prefs", "x"), None),
        ("v1.2", ("v1.2",), "dotted top-level key"),  # an existing key wins as typed
    ],
)
def test_lookup(text: str, path: tuple[Any, ...], value: Any) -> None:
    assert lookup(DATA, text) == (path, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "the session has no key 'nope' (its keys: cart, name, prefs, v1.2)"),
        ("cart[2]", "there is no cart[2]: cart has 2 items"),
        ("prefs.y", "there is no prefs.y: prefs has no key 'y'"),
        ("cart.first", "cart is a list: give an index such as cart[0], not .first"),
        ("name.first", "name is a string, so it has no .first"),
        ("prefs.x.y", "prefs.x is null, so it has no .y"),
    ],
)
def test_lookup_says_where_the_path_stops(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        lookup(DATA, text)
    assert str(info.value).startswith(message)


def test_resolve_allows_a_new_last_step() -> None:
    assert resolve(DATA, "prefs.new") == ("prefs", "new")
    assert resolve(DATA, "cart[2]") == ("cart", 2)
    assert resolve(DATA, "fresh") == ("fresh",)


def test_a_long_key_list_is_cut() -> None:
    with pytest.raises(UsageError, match=r"k0, k1, .*, … \(30 in all\)"):
        lookup({f"k{i}": i for i in range(30)}, "nope")


@pytest.mark.parametrize(
    "path", [("cart", 0, "item"), ("prefs", "a.b"), ("", "x"), ("a", "b c"), ("k", 'q"')]
)
def test_format_round_trips(path: tuple[Any, ...]) -> None:
    assert parse_key_path(format_key_path(path)) == path


# Any key at all: dots, brackets, quotes, spaces, control characters, lone surrogates.
_KEYS = st.text(st.characters(exclude_categories=()), max_size=12)
_PATHS = st.tuples(_KEYS, st.lists(st.one_of(_KEYS, st.integers(0, 10**6)), max_size=4))


@given(_PATHS)
def test_any_formatted_path_parses_back_as_the_same_steps(
    start: tuple[str, list[str | int]],
) -> None:
    path = (start[0], *start[1])
    assert parse_key_path(format_key_path(path)) == path


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("prefs", "a.b", 0), 'prefs["a.b"][0]'),
        (("prefs", "a", "b", 0), "prefs.a.b[0]"),
        (("a.b",), '["a.b"]'),
        (("cart", 0, "item"), "cart[0].item"),
        (("x", "my key"), 'x["my key"]'),
        (("x", ""), 'x[""]'),
        (("x", "größe", "0", "-1"), "x.größe.0.-1"),
    ],
)
def test_keys_that_need_it_are_quoted(path: tuple[Any, ...], shown: str) -> None:
    assert format_key_path(path) == shown


def test_a_diff_tells_a_dotted_key_from_a_nested_one() -> None:
    before: dict[str, Any] = {"prefs": {"a.b": [1], "a": {"b": [1]}}}
    after: dict[str, Any] = {"prefs": {"a.b": [2], "a": {"b": [3]}}}
    changes = diff_sessions(before, after)
    assert [c.where for c in changes] == ['prefs["a.b"][0]', "prefs.a.b[0]"]
    for change in changes:  # what a diff shows is a path `dcaf session get` reads
        assert lookup(after, change.where) == (change.path, change.new)
