"""Paths into session data as people type them: `cart[0].item`, `cart.0.item`, `prefs["a.b"]`.

A path is a top-level key followed by `.name` or `[index]` steps. A step of digits after a
dot (`cart.0`) is an index into a list and a key of an object, whichever the data holds
there; `[-1]` counts from the end; `["a.b"]` (a JSON string) or `['a.b']` quotes a key that
holds dots or brackets. A top-level key that exists as typed always wins, so a key named
`v1.2` needs no quoting. Pure: no I/O, and no pydantic (`dcaf session show` stays light).
"""

from __future__ import annotations

import json
import re
from typing import Any

from dcaf_cli.errors import UsageError
from dcaf_cli.session.text import kind, plural

Step = str | int
KeyPath = tuple[Step, ...]

_NAME = re.compile(r"[^.\[\]]+")
# What a formatted path writes bare: letters, digits, `_`, `-`, `$`, `@`. Anything else (a
# dot, a bracket, a space, a quote, a control character, the empty key) is quoted, so a
# shown path is never ambiguous and always reads back as the same steps.
_BARE = re.compile(r"[\w$@-]+")
_INDEX = re.compile(r"\[(-?\d+)\]")
_DQUOTED = re.compile(r'\[("(?:[^"\\]|\\.)*")\]')
_SQUOTED = re.compile(r"\['([^']*)'\]")
_HINT = 'write cart[0].item or cart.0.item; quote odd keys as prefs["a.b"]'


def parse_key_path(text: str) -> KeyPath:
    """`cart[0].item` -> `("cart", 0, "item")`; `cart.0` -> `("cart", "0")` (see module)."""
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        if steps and text[pos] == ".":
            pos += 1
            match = _NAME.match(text, pos)
            if match is None:
                raise _unreadable(text, pos)
            steps.append(match.group(0))
            pos = match.end()
        else:
            step, pos = _step(text, pos, first=not steps)
            steps.append(step)
    if not steps:
        raise UsageError("give a key (an empty path names nothing)", hint=_HINT)
    if not isinstance(steps[0], str):
        raise UsageError(f"{text!r} starts with an index; a path starts with a key", hint=_HINT)
    return tuple(steps)


def _step(text: str, pos: int, *, first: bool) -> tuple[Step, int]:
    match = _INDEX.match(text, pos)
    if match:
        return int(match.group(1)), match.end()
    match = _DQUOTED.match(text, pos)
    if match:
        return str(json.loads(match.group(1))), match.end()
    match = _SQUOTED.match(text, pos)
    if match:
        return match.group(1), match.end()
    match = _NAME.match(text, pos) if first else None
    if match is None:
        raise _unreadable(text, pos)
    return match.group(0), match.end()


def _unreadable(text: str, pos: int) -> UsageError:
    return UsageError(f"cannot read the path {text!r} at character {pos + 1}", hint=_HINT)


def format_key_path(path: KeyPath) -> str:
    """`("cart", 0, "item")` -> `cart[0].item`; `("prefs", "a.b")` -> `prefs["a.b"]`.

    The one way a path is shown (diffs, errors, secret warnings): `parse_key_path` reads
    every result back as the same steps.
    """
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _BARE.fullmatch(step):
            out += f".{step}" if out else step
        else:
            out += f"[{json.dumps(step, ensure_ascii=False)}]"
    return out


def resolve(data: dict[str, Any], text: str) -> KeyPath:
    """The concrete path `text` names in `data`: list steps as ints, object steps as strs.

    Every step but the last must exist; the last may be a new key (or the index just past
    the end of a list), so the result also serves `set`.
    """
    if text in data:
        return (text,)
    steps = parse_key_path(text)
    path: list[Step] = [str(steps[0])]
    for step in steps[1:]:
        path.append(_concrete(value_at(data, path), step, path))
    return tuple(path)


def lookup(data: dict[str, Any], text: str) -> tuple[KeyPath, Any]:
    """The concrete path and the value `text` names; UsageError if it is not there."""
    path = resolve(data, text)
    return path, value_at(data, list(path))


def value_at(root: Any, path: list[Step] | KeyPath) -> Any:
    """The value at a concrete `path` under `root`, or a UsageError saying where it stops."""
    node = root
    for depth, step in enumerate(path):
        if not _has(node, step):
            raise _missing(node, list(path[: depth + 1]))
        node = node[step]
    return node


def _has(node: Any, step: Step) -> bool:
    if isinstance(node, dict):
        return isinstance(step, str) and step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


def _concrete(node: Any, step: Step, path: list[Step]) -> Step:
    where = format_key_path(tuple(path))
    if isinstance(node, dict):
        return str(step)
    if isinstance(node, list):
        index = _as_index(step, where)
        if index >= 0:
            return index
        if index + len(node) < 0:
            raise UsageError(
                f"there is no {where}[{index}]: {where} has {plural(len(node), 'item')}"
            )
        return index + len(node)
    raise UsageError(f"{where} is {kind(node)}, so it has no {_show(step)}", hint=_HINT)


def _as_index(step: Step, where: str) -> int:
    if isinstance(step, int):
        return step
    if step.lstrip("-").isascii() and step.lstrip("-").isdigit():
        return int(step)
    raise UsageError(f"{where} is a list: give an index such as {where}[0], not .{step}")


def _missing(node: Any, path: list[Step]) -> UsageError:
    where = format_key_path(tuple(path))
    if len(path) == 1:
        names = sorted(node) if isinstance(node, dict) else []
        keys = ", ".join(names[:10]) + (f", … ({len(names)} in all)" if len(names) > 10 else "")
        keys = keys or "none"
        return UsageError(f"the session has no key {path[0]!r} (its keys: {keys})")
    parent = format_key_path(tuple(path[:-1]))
    if isinstance(node, list):
        return UsageError(f"there is no {where}: {parent} has {plural(len(node), 'item')}")
    return UsageError(f"there is no {where}: {parent} has no key {path[-1]!r}")


def _show(step: Step) -> str:
    return f"[{step}]" if isinstance(step, int) else f".{step}"
