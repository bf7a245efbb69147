"""JSON data as text, nested as deep as it comes: a loop over a stack, not recursion.

The stdlib's indenting encoder is pure Python and recursive (two frames a level: it
fails at about 450 levels), its compact one recurses in C up to the recursion limit, and
orjson and pydantic_core stop at 255 levels. `dumps` writes what `json.dumps` writes
(with `indent=2` or compact with `", "` and `": "`, non-ASCII kept), at any depth, and
with `limit` it stops once it has that many characters: a one-line preview of a 10 MB
value costs its first line, not the whole value.

`scrub_text` makes what a model or a server said storable: text a UTF-8 file can hold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any, Literal

from dcaf_cli.session.fastjson import fast_json

NonFinite = Literal["error", "null"]
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Frame:
    __slots__ = ("close", "first", "ident", "items", "keyed")

    def __init__(self, items: Iterator[tuple[object, object]], keyed: bool, ident: int) -> None:
        self.items, self.keyed, self.ident = items, keyed, ident
        self.close = "}" if keyed else "]"
        self.first = True


_END = object()


def dumps(
    value: object, *, indent: int | None = None, nan: NonFinite = "error", limit: int = 0
) -> str:
    """`value` as JSON text: indented by `indent` spaces, or compact on one line.

    NaN and infinities raise ValueError (`nan="error"`, as `allow_nan=False`) or are
    written as null; a cycle raises ValueError; what JSON cannot hold raises TypeError.
    With `limit` > 0 the text may stop after about `limit` characters.
    """
    out: list[str] = []
    size = written = 0
    stack: list[_Frame] = []
    active: set[int] = set()
    item_sep = "," if indent is not None else ", "
    _write(value, out, stack, active, nan)
    while stack:
        if limit:
            size += sum(len(piece) for piece in out[written:])
            written = len(out)
            if size > limit:
                break
        frame = stack[-1]
        item: tuple[object, object] | object = next(frame.items, _END)
        if not isinstance(item, tuple):
            stack.pop()
            active.discard(frame.ident)
            out.append(_newline(indent, len(stack)) + frame.close)
            continue
        key, child = item
        lead = _newline(indent, len(stack))
        out.append(lead if frame.first else item_sep + lead)
        frame.first = False
        if frame.keyed:
            out.append(encode_basestring(_key(key)) + ": ")
        _write(child, out, stack, active, nan)
    return "".join(out)


def _newline(indent: int | None, level: int) -> str:
    return "" if indent is None else "\n" + " " * (indent * level)


def _write(
    value: object, out: list[str], stack: list[_Frame], active: set[int], nan: NonFinite
) -> None:
    """Write a scalar, or open a container and push its frame."""
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))  # type: ignore[arg-type]
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value, nan))
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, dict | list | tuple):
        _open(value, out, stack, active)
    else:
        raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


def _open(
    value: dict[object, object] | list[object] | tuple[object, ...],
    out: list[str],
    stack: list[_Frame],
    active: set[int],
) -> None:
    keyed = isinstance(value, dict)
    if not value:
        out.append("{}" if keyed else "[]")
        return
    ident = id(value)
    if ident in active:
        raise ValueError("Circular reference detected")
    active.add(ident)
    items = iter(value.items()) if isinstance(value, dict) else ((None, v) for v in value)
    out.append("{" if keyed else "[")
    stack.append(_Frame(items, keyed, ident))


def _float(value: float, nan: NonFinite) -> str:
    if math.isfinite(value):
        return float.__repr__(value)
    if nan == "null":
        return "null"
    raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return float.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def scrub_text(value: Any) -> tuple[Any, bool]:
    """`value` (JSON data) with every lone surrogate replaced by U+FFFD, and whether any
    was: for records of what a model or server said, which must stay saveable. Session
    data never needs it (`to_json` refuses such text, naming the key)."""
    fast = fast_json()
    if fast is not None:  # it refuses lone surrogates: what it encodes holds none
        try:
            fast.dumps(value)
        except fast.JSONEncodeError:
            pass  # a surrogate, or what only the writer below can tell
        else:
            return value, False
    try:
        text = dumps(value, nan="null")
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _replaced(value), True
    except (TypeError, ValueError):
        return value, False  # not for this check to report
    return value, False


def _replaced(value: Any) -> Any:
    """`value` with each lone surrogate in its strings and keys replaced (at any depth)."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    while stack:
        item, target, slot = stack.pop()
        if isinstance(item, str):
            target[slot] = _SURROGATE.sub("\ufffd", item)
        elif isinstance(item, dict):
            out: dict[Any, Any] = {}
            target[slot] = out
            for k, v in item.items():
                key = _SURROGATE.sub("\ufffd", k) if isinstance(k, str) else k
                out[key] = None
                stack.append((v, out, key))
        elif isinstance(item, list | tuple):
            target[slot] = listed = [None] * len(item)
            stack += [(v, listed, i) for i, v in enumerate(item)]
        else:
            target[slot] = item
    return holder[0]
