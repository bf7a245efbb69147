"""Changing one value inside a session at a key path (`cart[0].quantity`, see keypath.py).

The one implementation behind the REPL's `/set` and `/del` and `dcaf session set/delete`,
so both accept the same paths and make the same change. Reading is `keypath.lookup`.
A change replaces the top-level value the path starts in with a changed copy (stored
values are never mutated in place: transactions keep references to them).
"""

from __future__ import annotations

from typing import Any

from dcaf_cli.errors import UsageError
from dcaf_cli.session.jsonvalue import JSON, copy_json, to_json
from dcaf_cli.session.keypath import KeyPath, format_key_path, lookup, resolve, value_at
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import plural


def set_at(session: Session, text: str, value: Any) -> KeyPath:
    """Set the value at the path `text`; return the concrete path.

    A new key, or the index just past the end of a list (which appends), is fine; a
    missing parent is not. A value JSON cannot hold is a UsageError; nothing changes then.
    """
    where = resolve(session.data_view(), text)
    data = _checked(value, where)
    top = str(where[0])
    if len(where) == 1:
        session.set(top, data)
    else:
        session.set(top, _put(copy_json(session.data_view()[top]), where, data))
    return where


def delete_at(session: Session, text: str) -> KeyPath:
    """Delete the key or list item at the path `text` (it must exist); return the path."""
    where, _ = lookup(session.data_view(), text)
    top = str(where[0])
    if len(where) == 1:
        session.delete(top)
    else:
        changed = copy_json(session.data_view()[top])
        parent = value_at(changed, where[1:-1])
        del parent[where[-1]]
        session.set(top, changed)
    return where


def _put(top: JSON, where: KeyPath, value: JSON) -> JSON:
    parent = value_at(top, where[1:-1])
    last = where[-1]
    if not isinstance(parent, list):
        parent[last] = value
    elif last == len(parent):
        parent.append(value)
    elif isinstance(last, int) and 0 <= last < len(parent):
        parent[last] = value
    else:
        raise UsageError(
            f"there is no {format_key_path(where)}: {format_key_path(where[:-1])} has"
            f" {plural(len(parent), 'item')} (index {len(parent)} appends one)"
        )
    return top


def _checked(value: Any, where: KeyPath) -> JSON:
    try:
        return to_json(value, str(where[0]), inside=where[1:])
    except TypeError as exc:
        raise UsageError(str(exc)) from None
