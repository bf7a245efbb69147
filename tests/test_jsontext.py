"""JSON data at any depth: the text encoder, the copy, the converter, redaction and the
diff loop over a stack, so data as deep as a session file holds never hits the recursion
limit; the converter refuses deeper values with one line."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcaf_cli.session.diff import diff_values, to_patch
from dcaf_cli.session.jsontext import dumps, scrub_text
from dcaf_cli.session.jsonvalue import JSON, MAX_DEPTH, copy_json, same, to_json
from dcaf_cli.session.redact import MASK, redact, secret_paths

DEEP = 5_000  # well past the ~1,000 frames Python allows

json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def nested(depth: int, leaf: Any = 0, *, key: str = "a") -> Any:
    """`depth` levels of objects and lists, alternating, around `leaf`."""
    value = leaf
    for level in range(depth):
        value = {key: value} if level % 2 else [value]
    return value


@given(json_data)
def test_copy_json_is_a_deep_copy(value: Any) -> None:
    copied = copy_json(value)
    assert same(copied, copy.deepcopy(value))
    assert copied == copy.deepcopy(value)


@given(json_data)
def test_to_json_of_json_data_is_a_copy_of_it(value: Any) -> None:
    converted = to_json(value, "k")
    assert same(converted, value)
    wrapped = to_json((value,), "k")  # a tuple: the converter's path, not the quick one
    assert same(wrapped, [value])


@given(json_data)
def test_dumps_writes_what_json_dumps_writes(value: Any) -> None:
    assert dumps(value, indent=2) == json.dumps(value, indent=2, ensure_ascii=False)
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def test_dumps_at_any_depth_and_with_a_limit() -> None:
    deep = nested(DEEP)
    text = dumps(deep)
    assert (text.count("["), text.count("{")) == (DEEP // 2, DEEP // 2)
    text = dumps(nested(DEEP, "x" * 1_000_000), limit=80)
    assert 80 < len(text) < 200
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps([math.inf])
    assert dumps([math.nan], nan="null") == "[null]"
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular"):
        dumps(cycle)


def test_the_copy_the_diff_redaction_and_checks_follow_any_depth() -> None:
    deep = nested(DEEP, {"password": "hunter2"})
    copied = copy_json(deep)
    assert same(copied, deep)
    assert copied is not deep
    shown = redact(deep)
    assert dumps(shown).count(MASK) == 1
    assert len(secret_paths(deep, ("k",))) == 1
    changed = nested(DEEP, {"password": "hunter3"})
    (change,) = diff_values(deep, changed, ("k",))
    assert change.kind == "changed"
    assert len(change.path) == DEEP + 2
    assert to_patch([change])[0]["value"] == "hunter3"
    scrubbed, replaced = scrub_text(nested(DEEP, "\ud800"))
    assert replaced
    assert same(scrubbed, nested(DEEP, "\ufffd"))


def test_the_converter_takes_what_a_file_holds_and_refuses_deeper() -> None:
    assert same(to_json(nested(MAX_DEPTH), "k"), nested(MAX_DEPTH))
    with pytest.raises(TypeError) as info:
        to_json(nested(DEEP), "k")
    message = str(info.value)
    assert message.startswith(f"session key 'k': value is nested deeper than {MAX_DEPTH} levels")
    assert "\n" not in message
    assert len(message) < 300  # one line, not the 5,000 steps of the path


def test_the_diff_keeps_its_order() -> None:
    old: JSON = {"a": [1, 2, 3], "b": {"c": 1, "d": 2}, "e": 1}
    new: JSON = {"a": [1, 3], "b": {"c": 2, "x": 5}, "f": 1}
    assert [(c.kind, c.path) for c in diff_values(old, new, ("k",))] == [
        ("removed", ("k", "a", 1)),
        ("changed", ("k", "b", "c")),
        ("removed", ("k", "b", "d")),
        ("added", ("k", "b", "x")),
        ("removed", ("k", "e")),
        ("added", ("k", "f")),
    ]
