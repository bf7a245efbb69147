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
import marshal
import math
import uuid
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, NoReturn, TypeAlias

from pydantic import BaseModel

from dcaf_cli.session.fastjson import fast_json
from dcaf_cli.session.keypath import format_key_path

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
Path: TypeAlias = tuple[str | int, ...]

_LEAVES = (str, bool, int, float, type(None), dt.date, dt.time, uuid.UUID)
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


def to_json(value: object, key: str, *, inside: Path = ()) -> JSON:
    """Convert `value` to fresh JSON data or raise `TypeError` naming `key` and the path
    (`inside`: where under `key` the value goes, when it is not the key's whole value).

    A loop over a stack, not recursion: any depth converts. A value nested deeper than
    `MAX_DEPTH` levels is refused all the same, since no session file could hold it.
    """
    plain = _plain_copy(value, MAX_DEPTH - len(inside))
    if plain is not _NOT_PLAIN:
        return plain  # type: ignore[return-value]  # JSON data, copied
    holder: list[JSON] = [None]
    _Converter().run(value, (key, *inside), holder)
    return holder[0]


_NOT_PLAIN: Any = object()


def _plain_copy(value: object, depth: int) -> object:
    """A copy of `value` if it is plain, storable JSON data (the usual case) no deeper than
    `depth`, else `_NOT_PLAIN`: the converter then finds what to convert or refuse, and
    says where. No paths are built here, which makes it ~1.5x quicker than the converter.
    A cycle gets too deep, and so goes to the converter too."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return value if _plain_leaf(value) else _NOT_PLAIN
    root: Any = {} if kind is dict else []
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while stack:
        source, target, level = stack.pop()
        if level > depth:
            return _NOT_PLAIN
        pairs = source.items() if type(source) is dict else enumerate(source)
        if type(source) is list:
            target.extend([None] * len(source))
        for k, v in pairs:
            inner = type(v)
            if type(source) is dict and (type(k) is not str or unencodable(k)):
                return _NOT_PLAIN
            if inner is dict or inner is list:
                fresh: Any = {} if inner is dict else []
                target[k] = fresh
                stack.append((v, fresh, level + 1))
            elif _plain_leaf(v):
                target[k] = v
            else:
                return _NOT_PLAIN
    return root


def _plain_leaf(value: object) -> bool:
    kind = type(value)
    if kind is str:
        return not unencodable(value)  # type: ignore[arg-type]
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    return kind in _IMMUTABLE_JSON


MAX_DEPTH = 800  # levels of a session value: the JSON reader reads ~900 (it recurses)


class _Converter:
    """One conversion: a stack of values still to convert, each with where it goes."""

    __slots__ = ("active", "stack")

    def __init__(self) -> None:
        # (value, path, the container it goes into, its key or index); an int: the id of
        # a container whose items are all converted (it leaves the cycle check).
        self.stack: list[tuple[object, Path, Any, Any] | int] = []
        self.active: set[int] = set()

    def run(self, value: object, path: Path, holder: list[JSON]) -> None:
        self.stack.append((value, path, holder, 0))
        while self.stack:
            task = self.stack.pop()
            if isinstance(task, int):
                self.active.discard(task)
                continue
            item, at, target, slot = task
            target[slot] = self.convert(item, at)

    def convert(self, value: object, path: Path) -> JSON:
        """`value` converted, or an empty container whose items are pushed to convert."""
        # Fast path for values that already are plain JSON (the usual case): exact type
        # checks cost a few ns, `isinstance` against Enum, Mapping or a dataclass hundreds.
        kind = type(value)
        if kind is str and unencodable(value):  # type: ignore[arg-type]
            _reject(path, _NOT_UNICODE)
        if kind in _IMMUTABLE_JSON:
            return value  # type: ignore[return-value]  # str, int, bool or None: immutable
        if kind is float:
            return _convert_scalar(value, path)
        if kind is list:
            return self._items(value, path, value)  # type: ignore[arg-type]
        if kind is dict:
            return self._mapping(value, path, value)  # type: ignore[arg-type]
        return self._other(value, path)

    def _other(self, value: object, path: Path) -> JSON:
        if isinstance(value, Enum):
            return self.convert(value.value, path)
        if isinstance(value, _LEAVES):
            return _convert_scalar(value, path)
        if isinstance(value, BaseModel):
            self._enter(value, path)
            return self.convert(value.model_dump(mode="json"), path)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields: dict[object, object] = {
                f.name: getattr(value, f.name) for f in dataclasses.fields(value)
            }
            return self._mapping(fields, path, value)
        if isinstance(value, Mapping):
            return self._mapping(value, path, value)
        if isinstance(value, list | tuple):
            return self._items(value, path, value)
        return _reject(path, f"is a {type(value).__name__}, which JSON cannot hold")

    def _enter(self, container: object, path: Path) -> None:
        ident = id(container)
        if ident in self.active:
            _reject(path, "contains itself (a reference cycle)")
        if len(path) > MAX_DEPTH:  # the key, then one step a level
            problem = f"is nested deeper than {MAX_DEPTH} levels, more than a session file holds"
            _reject(path[:1], problem)
        self.active.add(ident)
        self.stack.append(ident)  # popped after the items pushed next: they leave first

    def _items(self, items: Sequence[object], path: Path, container: object) -> JSON:
        self._enter(container, path)
        out: list[JSON] = [None] * len(items)
        self.stack += [(v, (*path, i), out, i) for i, v in reversed(list(enumerate(items)))]
        return out

    def _mapping(self, value: Mapping[object, object], path: Path, container: object) -> JSON:
        self._enter(container, path)
        out: dict[str, JSON] = {}
        tasks = []
        for k, v in value.items():
            if not isinstance(k, str):
                _reject(path, f"has the key {k!r}; JSON object keys must be strings")
            # `str()` of a `(str, Enum)` member is "Cls.NAME"; JSON wants its value.
            key = k if type(k) is str else k.value if isinstance(k, Enum) else str.__str__(k)
            if unencodable(key):
                _reject(path, f"has a key that {_NOT_UNICODE}")
            out[key] = None  # the keys in their order now; the values as they convert
            tasks.append((v, (*path, key), out, key))
        self.stack += reversed(tasks)
        return out


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


def _reject(path: Path, problem: str) -> NoReturn:
    hint = "store JSON data: dicts with string keys, lists, strings, numbers, booleans, None"
    hint += ", Pydantic models or dataclasses"
    if len(path) == 1:
        raise TypeError(f"session key {path[0]!r}: value {problem}; {hint}")
    raise TypeError(f"session key {path[0]!r}: {format_key_path(path)} {problem}; {hint}")


def copy_json(value: JSON) -> JSON:
    """A deep copy of JSON data, much faster than `copy.deepcopy` for this one shape.

    `marshal` copies exactly the plain types JSON data is made of (`true` stays apart from
    `1`, `-0.0` from `0.0`), at C speed, to 2,000 levels; deeper, a loop over a stack, not
    recursion: a value nested 10,000 deep copies like any other.
    """
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    try:
        copied: JSON = marshal.loads(marshal.dumps(value))
    except ValueError:  # nested deeper than marshal goes
        return _copy_walk(value)
    return copied


def _copy_walk(value: JSON) -> JSON:
    kind = type(value)
    root: JSON = {} if kind is dict else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        if type(source) is dict:
            for k, v in source.items():
                inner = type(v)
                if inner is dict or inner is list:
                    fresh: Any = {} if inner is dict else []
                    target[k] = fresh
                    stack.append((v, fresh))
                else:
                    target[k] = v
        else:
            for v in source:
                inner = type(v)
                if inner is dict or inner is list:
                    target.append(fresh := {} if inner is dict else [])
                    stack.append((v, fresh))
                else:
                    target.append(v)
    return root


def same(a: JSON, b: JSON) -> bool:
    """Strict JSON equality: values that serialise differently are different.

    Unlike `==`, `true` is not `1`, `1` is not `1.0` and `0.0` is not `-0.0`. A loop over
    a stack, not recursion: a value nested 10,000 deep compares like any other. Equal
    values (the usual case, and the costly one) are first compared at C speed.
    """
    if _same_encoding(a, b):
        return True
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


def _same_encoding(a: object, b: object) -> bool:
    """Both encode to the same bytes with orjson, which writes `true`, `1`, `1.0` and
    `-0.0` apart; False when orjson is missing or cannot tell (nesting over its 254
    levels, an integer over 64 bits, keys in another order: the loop decides). orjson
    writes NaN and infinities as `null`, so only an encoding with a `null` in it needs
    `==` as well (which tells them from `None`, and NaN from itself, as the loop does)."""
    fast = fast_json()
    if fast is None or type(a) is not type(b):
        return False
    if isinstance(a, dict | list) and len(a) != len(b):  # type: ignore[arg-type]
        return False
    try:
        encoded = fast.dumps(a)
        return encoded == fast.dumps(b) and (b"null" not in encoded or bool(a == b))
    except Exception:
        return False
