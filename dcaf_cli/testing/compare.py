"""How replay compares a recorded turn with what the agent does now: session states with
chosen paths ignored, and tool calls (exactly, or loosely for arguments a model phrases
differently)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from dcaf_cli.errors import UsageError
from dcaf_cli.session.diff import parse_pointer
from dcaf_cli.session.jsonvalue import JSON, copy_json, same
from dcaf_cli.session.text import cut

Pattern = tuple[str, ...]  # pointer segments; "*" matches any one key or index


def parse_ignore(patterns: Iterable[str]) -> list[Pattern]:
    """`/cart/*/added_at` style JSON Pointers, checked up front so a typo is one line."""
    parsed: list[Pattern] = []
    for text in patterns:
        if not text.startswith("/"):
            raise UsageError(
                f"--ignore {text!r} is not a JSON Pointer",
                hint="write it like /cart/*/added_at: a slash before each key, * for any",
            )
        parsed.append(tuple(str(part) for part in parse_pointer(text)))
    return parsed


def without(data: dict[str, JSON], patterns: Sequence[Pattern]) -> dict[str, JSON]:
    """A copy of `data` with every value at a path matching one of `patterns` removed."""
    if not patterns:
        return data
    pruned = copy_json(data)
    assert isinstance(pruned, dict)
    for pattern in patterns:
        _prune(pruned, pattern)
    return pruned


def _prune(node: JSON, pattern: Pattern) -> None:
    # Iterative: session data may be nested deeper than Python's recursion limit.
    stack: list[tuple[JSON, Pattern]] = [(node, pattern)]
    while stack:
        current, rest = stack.pop()
        head, tail = rest[0], rest[1:]
        if isinstance(current, dict):
            keys = list(current) if head == "*" else [head] if head in current else []
            for key in keys:
                if tail:
                    stack.append((current[key], tail))
                else:
                    del current[key]
        elif isinstance(current, list):
            indexes = _indexes(current, head)
            for index in sorted(indexes, reverse=True):  # deleting from the end keeps indexes
                if tail:
                    stack.append((current[index], tail))
                else:
                    del current[index]


def _indexes(items: list[JSON], head: str) -> list[int]:
    if head == "*":
        return list(range(len(items)))
    if head.isdigit() and int(head) < len(items):
        return [int(head)]
    return []


# -- tool calls ----------------------------------------------------------------------------

Call = dict[str, Any]  # {"name", "input", "output"?, "error"?} as turn records keep them


def rejected(call: Call) -> bool:
    """A call the user turned down: recorded, but it never ran."""
    error = call.get("error")
    return isinstance(error, str) and error.startswith("rejected:")


def loose(value: Any) -> Any:
    """A form of an argument that ignores how a model happens to phrase it: case, spacing,
    numbers written as text ("2" is 2), and key order (a loop, not recursion: any depth)."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    while stack:
        item, target, slot = stack.pop()
        if isinstance(item, list):
            target[slot] = out = [None] * len(item)
            stack += [(v, out, i) for i, v in enumerate(item)]
        elif isinstance(item, dict):
            target[slot] = keyed = {str(key): None for key in item}
            stack += [(v, keyed, str(key)) for key, v in item.items()]
        else:
            target[slot] = _loose_leaf(item)
    return holder[0]


def _loose_leaf(value: Any) -> Any:
    if isinstance(value, str):
        text = " ".join(value.split()).casefold()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            number = float(text)
            return int(number) if number.is_integer() else number
        return text
    if isinstance(value, bool):
        return ("bool", value)  # True == 1 in Python; not in JSON
    if value is None:
        return value
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else float(value)
    return value


def same_call(recorded: Call, actual: Call, *, loosely: bool = False) -> bool:
    """Whether two calls name the same tool with the same arguments."""
    if recorded.get("name") != actual.get("name") or rejected(recorded) != rejected(actual):
        return False
    a, b = recorded.get("input", {}), actual.get("input", {})
    return loose(a) == loose(b) if loosely else same(a, b)


def trajectory_problems(
    recorded: Sequence[Call], actual: Sequence[Call], *, loosely: bool = False
) -> list[str]:
    """One line for each place the calls made now differ from the recorded ones."""
    problems: list[str] = []
    for index in range(max(len(recorded), len(actual))):
        want = recorded[index] if index < len(recorded) else None
        got = actual[index] if index < len(actual) else None
        if want is None and got is not None:
            problems.append(f"call {index + 1}: {describe(got)} was not in the recording")
        elif got is None and want is not None:
            problems.append(f"call {index + 1}: {describe(want)} was recorded but not made")
        elif want is not None and got is not None and not same_call(want, got, loosely=loosely):
            problems.append(f"call {index + 1}: recorded {describe(want)}, now {describe(got)}")
    return problems


def output_problems(recorded: Sequence[Call], actual: Sequence[Call]) -> list[str]:
    """One line for each tool call whose output (or error) differs from the recording."""
    problems: list[str] = []
    for index, (want, got) in enumerate(zip(recorded, actual, strict=False), start=1):
        if got.get("error") and not want.get("error"):
            problems.append(f"call {index}: {want.get('name')} failed: {got['error']}")
        elif want.get("output") != got.get("output"):
            problems.append(
                f"call {index}: {want.get('name')} returned {_short(got.get('output'))}, "
                f"recorded {_short(want.get('output'))}"
            )
    return problems


def describe(call: Call) -> str:
    """`add_to_cart(item="Widget", quantity=2)`, shortened."""
    args = ", ".join(f"{key}={_short(value)}" for key, value in call.get("input", {}).items())
    mark = " (rejected)" if rejected(call) else ""
    return f"{call.get('name')}({args}){mark}"


def _short(value: Any, width: int = 40) -> str:
    return cut(json.dumps(value, ensure_ascii=False), width)
