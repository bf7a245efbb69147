"""JSON data: the only kind of value a Session holds.

`to_json` turns what a tool hands to the session into plain JSON data (dict, list, str,
int, float, bool, None), converting Pydantic models and dataclasses, and rejects anything
else with a `TypeError` that names the key and the path inside the value. The result is a
fresh structure that shares nothing with the input, so later mutation of the input cannot
reach the session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Mapping
from enum import Enum
from typing import Any, NoReturn, TypeAlias

from pydantic import BaseModel

from dcaf_cli.session.keypath import format_key_path

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
Path: TypeAlias = tuple[str | int, ...]

_LEAVES = (str, bool, int, float, type(None), dt.date, dt.time, uuid.UUID)
_SURROGATE = re.compile("[\ud800-\udfff]")
_IMMUTABLE_JSON = frozenset({str, int, bool, type(None)})
_NOT_UNICODE = (
    "holds text that is not valid Unicode (a lone surrogate, or undecodable bytes), "
    "which no file can store"
)


def unencodable(text: str) -> bool:
    """Whether `text` cannot be written as UTF-8: it holds a lone surrogate, as a
    `"\\ud800"` JSON escape or bytes decoded with `surrogateescape` produce."""
    if text.isascii():  # the usual case, checked at C speed
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def scrub_text(value: Any) -> tuple[Any, bool]:
    """`value` (JSON data) with every lone surrogate replaced by U+FFFD, and whether any
    was: for records of what a model or server said, which must stay saveable. Session
    data never needs it (`to_json` refuses such text, naming the key)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", json.dumps(value, ensure_ascii=False))
        return json.loads(text), True
    except (TypeError, ValueError, RecursionError):
        return value, False  # not for this check to report
    return value, False


def to_json(value: object, key: str, *, inside: Path = ()) -> JSON:
    """Convert `value` to fresh JSON data or raise `TypeError` naming `key` and the path
    (`inside`: where under `key` the value goes, when it is not the key's whole value)."""
    try:
        return _convert(value, (key, *inside), set())
    except RecursionError:
        raise TypeError(f"session key {key!r}: value is nested too deeply to store") from None


def _convert(value: object, path: Path, active: set[int]) -> JSON:
    # Fast path for values that already are plain JSON (the usual case): exact type checks
    # cost a few ns, while `isinstance` against Enum, Mapping or a dataclass costs hundreds.
    kind = type(value)
    if kind is str and unencodable(value):  # type: ignore[arg-type]
        _reject(path, _NOT_UNICODE)
    if kind in _IMMUTABLE_JSON:
        return value  # type: ignore[return-value]  # str, int, bool or None: immutable
    if kind is float:
        return _convert_scalar(value, path)
    if kind is dict or kind is list:
        ident = id(value)
        if ident in active:
            _reject(path, "contains itself (a reference cycle)")
        active.add(ident)
        try:
            if isinstance(value, list):
                return [_convert(v, (*path, i), active) for i, v in enumerate(value)]
            return _convert_mapping(value, path, active)  # type: ignore[arg-type]  # a dict
        finally:
            active.discard(ident)
    return _convert_other(value, path, active)


def _convert_other(value: object, path: Path, active: set[int]) -> JSON:
    if isinstance(value, Enum):
        return _convert(value.value, path, active)
    if isinstance(value, _LEAVES):
        return _convert_scalar(value, path)
    ident = id(value)
    if ident in active:
        _reject(path, "contains itself (a reference cycle)")
    active.add(ident)
    try:
        if isinstance(value, BaseModel):
            return _convert(value.model_dump(mode="json"), path, active)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: _convert(getattr(value, f.name), (*path, f.name), active)
                for f in dataclasses.fields(value)
            }
        if isinstance(value, Mapping):
            return _convert_mapping(value, path, active)
        if isinstance(value, list | tuple):
            return [_convert(v, (*path, i), active) for i, v in enumerate(value)]
    finally:
        active.discard(ident)
    return _reject(path, f"is a {type(value).__name__}, which JSON cannot hold")


def _convert_scalar(value: object, path: Path) -> JSON:
    # bool/int/str subclasses become the plain JSON value.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        if unencodable(value):
            _reject(path, _NOT_UNICODE)
        return str.__str__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            _reject(path, f"{value!r} is not a JSON number (NaN and Infinity cannot be stored)")
        return float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()  # datetimes too; `as_type=datetime` reads them back
    if isinstance(value, uuid.UUID):
        return str(value)
    return None


def _convert_mapping(value: Mapping[object, object], path: Path, active: set[int]) -> JSON:
    out: dict[str, JSON] = {}
    for k, v in value.items():
        if not isinstance(k, str):
            _reject(path, f"has the key {k!r}; JSON object keys must be strings")
        # `str()` of a `(str, Enum)` member is "Cls.NAME"; JSON wants its value.
        key = k if type(k) is str else k.value if isinstance(k, Enum) else str.__str__(k)
        if unencodable(key):
            _reject(path, f"has a key that {_NOT_UNICODE}")
        out[key] = _convert(v, (*path, key), active)
    return out


def _reject(path: Path, problem: str) -> NoReturn:
    hint = "store JSON data: dicts with string keys, lists, strings, numbers, booleans, None"
    hint += ", Pydantic models or dataclasses"
    if len(path) == 1:
        raise TypeError(f"session key {path[0]!r}: value {problem}; {hint}")
    raise TypeError(f"session key {path[0]!r}: {format_key_path(path)} {problem}; {hint}")


def copy_json(value: JSON) -> JSON:
    """A deep copy of JSON data, much faster than `copy.deepcopy` for this one shape."""
    if type(value) is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_json(v) for v in value]
    return value


def same(a: JSON, b: JSON) -> bool:
    """Strict JSON equality: values that serialise differently are different.

    Unlike `==`, `true` is not `1`, `1` is not `1.0` and `0.0` is not `-0.0`. A loop over
    a stack, not recursion: a value nested 10,000 deep compares like any other.
    """
    stack: list[tuple[JSON, JSON]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict) and isinstance(y, dict):
            if x.keys() != y.keys():
                return False
            stack += [(v, y[k]) for k, v in x.items()]
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return False
            stack += zip(x, y, strict=True)
        elif isinstance(x, float) and isinstance(y, float):
            if x != y or math.copysign(1.0, x) != math.copysign(1.0, y):
                return False
        elif x != y:
            return False
    return True
