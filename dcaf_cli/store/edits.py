"""Hand edits of a session file, each recorded as a turn, under the writer lock.

`dcaf session set/delete/clear/undo/new` call these. Each takes the same `SessionStore`
lock and atomic save as `dcaf run`, so a file a running chat holds open is refused with
the store's one-line message and nothing is lost either way. An edit is a turn of kind
"edit" (it shows in the log, and `undo` reverses it); undoing removes turns instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcaf_cli.errors import SessionFileError, UsageError
from dcaf_cli.session.diff import Change, diff_sessions
from dcaf_cli.session.jsonvalue import to_json
from dcaf_cli.session.keypath import value_at
from dcaf_cli.session.pathedit import delete_at, set_at
from dcaf_cli.session.recorder import Recorder
from dcaf_cli.session.redact import redact, secrets_in_changes
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import cut, one_line
from dcaf_cli.store import approvals, history
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.sessionfile import SessionFile


@dataclass
class EditOutcome:
    """What an edit did: its changes, and the revision saved (None: nothing changed)."""

    path: Path
    changes: list[Change] = field(default_factory=list)
    revision: int | None = None
    turn: int | None = None  # the number of the turn recorded
    undone: list[int] = field(default_factory=list)  # the numbers of the turns undone
    secrets: list[str] = field(default_factory=list)  # where the edit stored a secret
    notice: str | None = None  # how the file was read (a bare session object, ...)


Edit = Callable[[Session], str]  # changes the session, returns the turn's input


def set_value(path: str | os.PathLike[str], key: str, value: Any) -> EditOutcome:
    """Set the value at `key` (a path such as `cart[0].item`). A new key or the index just
    past the end of a list is fine; a missing parent is not. `value` must be JSON data."""

    def edit(session: Session) -> str:
        where = set_at(session, key, value)
        stored = value_at(session.data_view(), where)
        shown = _short(redact(stored, where[-1] if isinstance(where[-1], str) else None))
        return f"session set {key} {shown}"

    return _edit(path, edit)


def delete_value(path: str | os.PathLike[str], key: str) -> EditOutcome:
    """Delete the key or list item at `key`; it must exist."""

    def edit(session: Session) -> str:
        delete_at(session, key)
        return f"session delete {key}"

    return _edit(path, edit)


def clear_session(path: str | os.PathLike[str]) -> EditOutcome:
    """Remove every key of the session data (the conversation stays)."""

    def edit(session: Session) -> str:
        session.clear()
        return "session clear"

    return _edit(path, edit)


def undo(path: str | os.PathLike[str], turns: int = 1) -> EditOutcome:
    """Reverse the last `turns` turns, session and messages, and drop their records."""
    with _open_existing(path) as (store, doc):
        with Recorder(doc.live_session()) as recorder:
            undone = history.undo_turns(doc, turns)
        outcome = EditOutcome(store.path, recorder.changes, notice=doc.notice)
        outcome.undone = [int(turn.get("n", 0)) for turn in undone]
        outcome.revision = store.save(doc)
        return outcome


def revoke_approvals(
    path: str | os.PathLike[str], names: list[str], *, everything: bool = False
) -> tuple[list[str], int | None]:
    """Revoke standing approvals; the names revoked and the revision saved (None: none)."""
    with _open_existing(path) as (store, doc):
        gone = approvals.revoke_named(doc, names, everything=everything)
        return gone, store.save(doc) if gone else None


def create(path: str | os.PathLike[str], source: str | os.PathLike[str] | None) -> EditOutcome:
    """A new session file, empty or holding the session data of `source` (bare or full)."""
    target = Path(path)
    _refuse_existing(target)
    data = read_session_file(source).session if source is not None else {}
    for key, value in data.items():
        _checked(value, key)
    with SessionStore(target) as store:
        doc = store.open()
        _refuse_existing(target)  # another process made it between the check and the lock
        doc.session, doc.notice = data, None
        changes = diff_sessions({}, data)
        return EditOutcome(store.path, changes, revision=store.save(doc))


def fork(
    path: str | os.PathLike[str], n: int, new: str | os.PathLike[str]
) -> tuple[EditOutcome, int]:
    """A new file `new` holding turns 1..`n` of `path` (session, messages, history); the
    outcome, and how many turns it holds. Never overwrites a file."""
    target = Path(new)
    _refuse_existing(target, "fork")
    doc = read_session_file(path)
    forked = history.fork_at(doc, n, source=os.fspath(path))
    with SessionStore(target) as store:
        store.open()
        _refuse_existing(target, "fork")  # made by another process since the check
        changes = diff_sessions({}, forked.session)
        return EditOutcome(store.path, changes, revision=store.save(forked)), len(forked.turns)


# -- the frame of every edit -------------------------------------------------------------


def _edit(path: str | os.PathLike[str], edit: Edit) -> EditOutcome:
    with _open_existing(path) as (store, doc):
        session = doc.live_session()
        with Recorder(session) as recorder:
            label = edit(session)
        changes = recorder.changes
        outcome = EditOutcome(store.path, changes, notice=doc.notice)
        if not changes:
            return outcome  # nothing to record or save: the file stays byte for byte
        record = history.record_turn(
            doc, input=label, changes=changes, tool_calls=[], reply=None, kind="edit"
        )
        outcome.turn = int(record["n"])
        outcome.secrets = secrets_in_changes(changes)
        outcome.revision = store.save(doc)
        return outcome


@contextmanager
def _open_existing(path: str | os.PathLike[str]) -> Iterator[tuple[SessionStore, SessionFile]]:
    """The locked store and document of a file that must exist (edits never create one)."""
    target = Path(path)
    _require_file(target)  # before the store: opening it would create missing folders
    with SessionStore(target) as store:
        doc = store.open()
        _require_file(target)  # deleted between the check and the lock
        yield store, doc


def _require_file(target: Path) -> None:
    if not target.exists():
        raise SessionFileError(
            one_line(
                f"{target} does not exist; check the path, or create it with `dcaf session new`"
            )
        )


def _refuse_existing(target: Path, command: str = "new") -> None:
    if os.path.lexists(target):
        raise UsageError(
            one_line(f"{target} already exists; `dcaf session {command}` never overwrites a file"),
            hint="pick another name, or edit it with `dcaf session set`",
        )


def _checked(value: Any, key: str) -> Any:
    try:
        return to_json(value, key)
    except TypeError as exc:
        raise UsageError(str(exc)) from None


def _short(value: Any, width: int = 60) -> str:
    return cut(json.dumps(value, ensure_ascii=False), width)
