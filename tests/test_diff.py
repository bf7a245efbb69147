"""diff: changes between JSON values, and the JSON Patch documents derived from them.

Unit tests with exact expectations; the property tests (patch/undo round trips against the
jsonpatch library) are in test_history.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from dcaf_cli.session.diff import (
    Change,
    apply_patch,
    diff_sessions,
    diff_values,
    from_patch,
    parse_pointer,
    pointer,
    same,
    to_patch,
    to_undo,
)
from dcaf_cli.session.jsonvalue import JSON
from dcaf_cli.session.session import MISSING

# -- same ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1),
        ("x", "x"),
        (None, None),
        (0.5, 0.5),
        ([1, {"a": [True]}], [1, {"a": [True]}]),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # object key order does not matter
    ],
)
def test_same_when_equal(a: Any, b: Any) -> None:
    assert same(a, b)
    assert same(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (True, 1),
        (False, 0),
        (1, 1.0),
        (0.0, -0.0),
        (None, 0),
        ("1", 1),
        ([1], [1, 1]),
        ([1, 2], [2, 1]),
        ({"a": 1}, {"a": 1, "b": None}),
        ({"a": [True]}, {"a": [1]}),
        ([], {}),
    ],
)
def test_not_same_when_json_differs(a: Any, b: Any) -> None:
    assert not same(a, b)
    assert not same(b, a)


# -- diff_values --------------------------------------------------------------------------


def test_diff_of_equal_values_is_empty() -> None:
    value: JSON = {"cart": [{"item": "Widget", "quantity": 2}], "n": None}
    assert diff_values(value, copy.deepcopy(value), ("s",)) == []
    assert diff_values(MISSING, MISSING, ("s",)) == []


def test_added_and_removed_keys() -> None:
    assert diff_values(MISSING, [1], ("cart",)) == [Change("added", ("cart",), new=[1])]
    assert diff_values({"a": 1}, MISSING, ("k",)) == [Change("removed", ("k",), old={"a": 1})]


def test_scalar_change_and_type_change() -> None:
    assert diff_values(1, 2, ("n",)) == [Change("changed", ("n",), old=1, new=2)]
    assert diff_values(True, 1, ("f",)) == [Change("changed", ("f",), old=True, new=1)]
    assert diff_values({"a": 1}, [1], ("x",)) == [Change("changed", ("x",), old={"a": 1}, new=[1])]


def test_nested_dict_changes_point_at_the_leaf() -> None:
    old: JSON = {"user": {"name": "ann", "age": 30, "tags": ["a"]}}
    new: JSON = {"user": {"name": "ann", "age": 31, "email": "a@x"}}
    assert diff_values(old, new, ("profile",)) == [
        Change("changed", ("profile", "user", "age"), old=30, new=31),
        Change("removed", ("profile", "user", "tags"), old=["a"]),
        Change("added", ("profile", "user", "email"), new="a@x"),
    ]


def test_list_append_is_one_addition() -> None:
    old: list[JSON] = [{"item": "Widget", "quantity": 2}]
    new: JSON = [*old, {"item": "Gadget", "quantity": 3}]
    changes = diff_values(old, new, ("cart",))
    assert changes == [Change("added", ("cart", 1), new={"item": "Gadget", "quantity": 3})]
    assert changes[0].where == "cart[1]"


def test_list_insertion_at_the_front_is_one_addition() -> None:
    assert diff_values([2, 3, 4], [1, 2, 3, 4], ("l",)) == [Change("added", ("l", 0), new=1)]


def test_list_removal_in_the_middle_is_one_removal() -> None:
    assert diff_values([1, 2, 3], [1, 3], ("l",)) == [Change("removed", ("l", 1), old=2)]


def test_list_shrink_removes_from_the_end_down() -> None:
    assert diff_values(["a", "b", "c", "T"], ["x", "T"], ("l",)) == [
        Change("changed", ("l", 0), old="a", new="x"),
        Change("removed", ("l", 2), old="c"),
        Change("removed", ("l", 1), old="b"),
    ]


def test_change_inside_a_list_item() -> None:
    old: JSON = [{"item": "Widget", "quantity": 2}, {"item": "Gadget", "quantity": 1}]
    new: JSON = [{"item": "Widget", "quantity": 2}, {"item": "Gadget", "quantity": 5}]
    changes = diff_values(old, new, ("cart",))
    assert changes == [Change("changed", ("cart", 1, "quantity"), old=1, new=5)]
    assert changes[0].where == "cart[1].quantity"


def test_diff_sessions_walks_keys_of_both_sides_in_order() -> None:
    before: dict[str, JSON] = {"a": 1, "b": [1], "gone": True}
    after: dict[str, JSON] = {"b": [1, 2], "a": 1, "new": {}}
    assert diff_sessions(before, after) == [
        Change("added", ("b", 1), new=2),
        Change("removed", ("gone",), old=True),
        Change("added", ("new",), new={}),
    ]


# -- pointers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "ptr"),
    [
        ((), ""),
        (("cart",), "/cart"),
        (("cart", 0, "item"), "/cart/0/item"),
        (("a/b", "m~n"), "/a~1b/m~0n"),
        (("", "x"), "//x"),
        (("~1",), "/~01"),
    ],
)
def test_pointer_round_trip(path: tuple[str | int, ...], ptr: str) -> None:
    assert pointer(path) == ptr
    assert parse_pointer(ptr) == path


@pytest.mark.parametrize("key", ["007", "00", "²", "١", "-1", "1e3", " 1"])
def test_object_keys_that_look_numeric_stay_strings(key: str) -> None:
    assert parse_pointer(pointer((key,))) == (key,)
    doc: JSON = {key: 1}
    assert apply_patch(doc, [{"op": "replace", "path": pointer((key,)), "value": 2}]) == {key: 2}


def test_parse_pointer_rejects_a_relative_pointer() -> None:
    with pytest.raises(ValueError, match="not a JSON pointer"):
        parse_pointer("cart/0")


# -- to_patch / to_undo / apply_patch -----------------------------------------------------


def test_to_patch_and_to_undo_for_each_kind() -> None:
    changes = [
        Change("added", ("cart", 1), new={"item": "Gadget"}),
        Change("removed", ("user",), old="ann"),
        Change("changed", ("n",), old=1, new=2),
    ]
    assert to_patch(changes) == [
        {"op": "add", "path": "/cart/1", "value": {"item": "Gadget"}},
        {"op": "remove", "path": "/user"},
        {"op": "replace", "path": "/n", "value": 2},
    ]
    assert to_undo(changes) == [
        {"op": "replace", "path": "/n", "value": 1},
        {"op": "add", "path": "/user", "value": "ann"},
        {"op": "remove", "path": "/cart/1"},
    ]


CASES = [
    ({}, {"cart": [{"item": "Widget", "quantity": 2}]}),
    ({"cart": [1, 2, 3, 4, 5]}, {"cart": [0, 2, 5]}),
    ({"cart": [1]}, {"cart": ["a", "b", "c", 1]}),
    ({"a": {"b": {"c": [1, {"d": None}]}}}, {"a": {"b": {"c": [1, {"d": False}, 2]}}}),
    ({"x": True, "y": 1.0, "z": 0}, {"x": 1, "y": 1, "z": -0.0}),
    ({"keep": 1, "drop": [1]}, {"keep": 1}),
    ({"a/b": {"~": 1}, "007": 1}, {"a/b": {"~": 2}, "007": 2}),
]


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(("before", "after"), CASES)
def test_patch_turns_before_into_after_and_undo_back(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    changes = diff_sessions(before, after)
    doc = apply_patch(copy.deepcopy(before), to_patch(changes))
    assert dumps(doc) == dumps(after)
    doc = apply_patch(doc, to_undo(changes))
    assert dumps(doc) == dumps(before)


@pytest.mark.parametrize(("before", "after"), CASES)
def test_from_patch_recovers_the_changes(before: dict[str, Any], after: dict[str, Any]) -> None:
    changes = diff_sessions(before, after)
    snapshot = copy.deepcopy(before)
    assert from_patch(to_patch(changes), before) == changes
    assert before == snapshot  # it works on a copy


def test_apply_patch_copies_values_in() -> None:
    value = {"items": [1]}
    doc = apply_patch({}, [{"op": "add", "path": "/v", "value": value}])
    value["items"].append(2)
    assert doc == {"v": {"items": [1]}}


def test_apply_patch_on_the_whole_document_and_list_end() -> None:
    assert apply_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}
    assert apply_patch({"l": [1]}, [{"op": "add", "path": "/l/-", "value": 2}]) == {"l": [1, 2]}
    with pytest.raises(ValueError, match="whole document"):
        apply_patch({"a": 1}, [{"op": "remove", "path": ""}])


@pytest.mark.parametrize(
    ("doc", "op", "error"),
    [
        ({"a": 1}, {"op": "replace", "path": "/b", "value": 1}, KeyError),
        ({"a": 1}, {"op": "remove", "path": "/b"}, KeyError),
        ({"a": 1}, {"op": "add", "path": "/a/b", "value": 1}, KeyError),
        ({"a": 1}, {"op": "move", "from": "/a", "path": "/b"}, ValueError),
        ({"l": [1]}, {"op": "copy", "from": "/l/0", "path": "/l/1"}, ValueError),
        ({"l": [1]}, {"op": "remove", "path": "/l/5"}, IndexError),
    ],
)
def test_apply_patch_refuses_what_it_cannot_do(
    doc: dict[str, Any], op: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        apply_patch(doc, [op])
