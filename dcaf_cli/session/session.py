"""Session: the JSON key-value store that travels with a conversation.

The API is the one tools already know (`get/set/delete/has/keys/items/update/clear`,
dict-style access, `to_dict/from_dict`, `is_modified`, `is_empty`, `as_type`), with three
guarantees on top:

* values are JSON data, checked when they are set (see `jsonvalue.to_json`);
* nothing is shared: `set` stores a converted copy and `get` hands out a copy, so mutating
  either side never changes the other;
* change tracking costs what a turn touches: a `Transaction` remembers each key's original
  value the first time it is touched (a reference is enough, since stored values are never
  mutated in place), and its diff, commit and rollback visit only those keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Final, TypeVar, overload

from pydantic import TypeAdapter, ValidationError

from dcaf_cli.session.jsonvalue import JSON, copy_json, same, to_json
from dcaf_cli.session.text import validation_problems

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()
"""Stands for "this key did not exist" in a transaction's record of original values."""


class SessionValueError(ValueError):
    """A stored value that does not fit the type asked for with `as_type`."""


@lru_cache(maxsize=256)
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def _type_name(tp: Any) -> str:
    """`CartItem`, `list[CartItem]`, `dict[str, Prefs]`: as the type was written."""
    if getattr(tp, "__args__", None) and getattr(tp, "__origin__", None) is not None:
        # `repr(list[CartItem])` names modules (`list[shop.models.CartItem]`): drop them.
        return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", repr(tp))
    return getattr(tp, "__name__", None) or repr(tp)


class Transaction:
    """The keys touched since it began, with their values from before.

    Created by `Session.transaction()`. Transactions nest: a turn holds one, and each
    tool call inside it holds its own, so a failing tool rolls back only its own changes.
    """

    __slots__ = ("_open", "_order", "_session", "originals", "recorded")

    def __init__(self, session: Session) -> None:
        self._session = session
        self.originals: dict[str, JSON | _Missing] = {}
        self.recorded = False  # held by a `Recorder` (see recorder.py)
        # The key order from before the first deletion, so a rollback that re-inserts a
        # deleted key puts it back in its place (taken only when a key is deleted).
        self._order: list[str] | None = None
        self._open = True

    def changes(self) -> dict[str, tuple[JSON | _Missing, JSON | _Missing]]:
        """`{key: (before, after)}` for every touched key whose value really changed."""
        data = self._session._data
        out: dict[str, tuple[JSON | _Missing, JSON | _Missing]] = {}
        for key, before in self.originals.items():
            after = data.get(key, MISSING)
            if before is after:
                continue
            # Strict equality: `true` -> `1` is a change (and a different file); `==` says no.
            missing = isinstance(before, _Missing) or isinstance(after, _Missing)
            if missing or not same(before, after):  # type: ignore[arg-type]
                out[key] = (before, after)
        return out

    @property
    def is_open(self) -> bool:
        """Still recording: neither committed nor rolled back."""
        return self._open

    def commit(self) -> None:
        """Keep the changes and stop recording."""
        self._close()

    def rollback(self) -> None:
        """Put every touched key back as it was (order too), and stop recording.

        Does nothing once the transaction is closed: its record is stale by then.
        """
        if not self._open:
            return
        data = self._session._data
        for key, before in self.originals.items():
            if isinstance(before, _Missing):
                data.pop(key, None)
            else:
                data[key] = before
        if self._order is not None:
            restored = {k: data[k] for k in self._order if k in data}
            restored.update(data)  # nothing, unless a key escaped the record
            data.clear()
            data.update(restored)
        self._close()

    def _close(self) -> None:
        if self._open:
            self._open = False
            self._session._frames.remove(self)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


class Session:
    """A JSON key-value store for state that must survive between conversation turns."""

    __slots__ = ("_data", "_frames", "_initial")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, JSON] = {}
        self._frames: list[Transaction] = []
        # The lifetime record behind `is_modified`: a transaction that is never closed.
        self._initial = Transaction(self)
        if data:
            for key, value in data.items():
                self._data[self._check_key(key)] = to_json(value, key)
        self._frames.append(self._initial)

    # -- construction and export ---------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Session:
        """A session holding a copy of `data` (which must be JSON data, or convertible)."""
        return cls(data)

    @classmethod
    def adopt(cls, data: dict[str, JSON]) -> Session:
        """A session that takes `data` over as it is: no check, no copy.

        Only for data fresh from a JSON parser that the caller hands over for good: a
        session file's document makes its one Session this way (`SessionFile.live_session`)
        and never writes the dict itself again; the server hands over a copy of a request's
        session's top level, and only reads the values it shares with it. Anything else
        goes through `from_dict`.
        """
        session = cls()
        session._data = data
        return session

    def data_view(self) -> dict[str, JSON]:
        """The stored data itself, not a copy: for serialisers only, never to mutate.

        Saving a 10 MB session must not copy it first; everything else uses `to_dict`.
        """
        return self._data

    def to_dict(self) -> dict[str, JSON]:
        """A deep copy of everything stored, as plain JSON data."""
        return {k: copy_json(v) for k, v in self._data.items()}

    # -- reading -------------------------------------------------------------------------

    @overload
    def get(self, key: str, default: Any = None) -> Any: ...
    @overload
    def get(self, key: str, default: Any = None, *, as_type: type[T]) -> T | Any: ...
    @overload
    def get(self, key: str, default: Any = None, *, as_type: Any) -> Any: ...

    def get(self, key: str, default: Any = None, *, as_type: Any = None) -> Any:
        """The value of `key`, or `default` (returned as given) when it is not set.

        With `as_type`, the stored JSON is validated into that type: a Pydantic model, a
        dataclass, `list[Model]`, `dict[str, Model]`, an enum, a `datetime` — anything
        Pydantic can validate. A stored `None` is `None`, as in DCAF. A value that does not
        fit raises `SessionValueError` (DCAF would hand back the raw value: we say so).
        """
        value = self._data.get(key, MISSING)  # not try/except: a miss would cost 2x a hit
        if isinstance(value, _Missing):
            return default
        if as_type is None or value is None:
            return copy_json(value)
        try:
            # A copy: `as_type=list`, `Any` or a model field typed `dict` would otherwise
            # hand out the stored containers themselves.
            return _adapter(as_type).validate_python(copy_json(value))
        except ValidationError as exc:
            problems = validation_problems(exc, "value", limit=3)
            raise SessionValueError(
                f"session key {key!r} does not fit {_type_name(as_type)}: {problems} "
                "(DCAF would return the stored value unconverted)"
            ) from None

    def has(self, key: str) -> bool:
        """Whether `key` is set."""
        return key in self._data

    def keys(self) -> list[str]:
        """The keys, in insertion order (a list: safe to delete while iterating)."""
        return list(self._data)

    def values(self) -> list[JSON]:
        """Copies of the values, in key order."""
        return [copy_json(v) for v in self._data.values()]

    def items(self) -> list[tuple[str, JSON]]:
        """`(key, value)` pairs with copies of the raw JSON values."""
        return [(k, copy_json(v)) for k, v in self._data.items()]

    @property
    def is_empty(self) -> bool:
        """True if nothing is stored."""
        return not self._data

    @property
    def is_modified(self) -> bool:
        """True if the data differs from what the session was created with."""
        return bool(self._initial.changes())

    # -- writing -------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Store `value` (JSON data, a Pydantic model or a dataclass) under `key`.

        Raises `TypeError`, naming the key and the path inside the value, if the value
        cannot be stored as JSON; nothing is stored then.
        """
        converted = to_json(value, self._check_key(key))
        self._touch(key)
        self._data[key] = converted

    def delete(self, key: str) -> None:
        """Remove `key`; deleting a key that is not set does nothing."""
        if key in self._data:
            self._touch(key)
            self._note_order()
            del self._data[key]

    def update(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        """Set several keys at once: all of them, or (if one is not JSON) none of them."""
        merged = {**(values or {}), **kwargs}
        converted = {self._check_key(k): to_json(v, k) for k, v in merged.items()}
        for key, value in converted.items():
            self._touch(key)
            self._data[key] = value

    def clear(self) -> None:
        """Remove every key."""
        for key in self._data:
            self._touch(key)
        self._note_order()
        self._data.clear()

    def replace_all(self, data: Mapping[str, Any]) -> None:
        """Make the session hold exactly `data` (validated first; all or nothing).

        A value the same as the one stored (a function returning `session.to_dict()`) is
        kept as it is: neither converted again nor, later, diffed."""
        converted = {self._check_key(k): self._kept_or_converted(k, v) for k, v in data.items()}
        self.clear()
        for key, value in converted.items():
            self._touch(key)
            self._data[key] = value

    def transaction(self) -> Transaction:
        """Start recording changes; as a context manager, roll back on any exception."""
        tx = Transaction(self)
        self._frames.append(tx)
        return tx

    # -- dict protocol -------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key not in self._data:
            raise KeyError(key)
        return copy_json(self._data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        if key not in self._data:
            raise KeyError(key)
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Session):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Session({self._data!r})"

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _check_key(key: object) -> str:
        if not isinstance(key, str):
            raise TypeError(f"session keys must be strings, not {type(key).__name__} ({key!r})")
        return key

    def _kept_or_converted(self, key: str, value: Any) -> JSON:
        stored = self._data.get(key, MISSING)
        if not isinstance(stored, _Missing) and same(value, stored):
            return stored
        return to_json(value, key)

    def _note_order(self) -> None:
        order: list[str] | None = None
        for frame in self._frames:
            if frame._order is None and frame is not self._initial:
                order = order if order is not None else list(self._data)
                frame._order = order

    def _touch(self, key: str) -> None:
        before = self._data.get(key, MISSING)
        for frame in self._frames:
            if key not in frame.originals:
                frame.originals[key] = before
