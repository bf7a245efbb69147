"""The transaction of a turn (or of a hand edit): begin, then keep and diff, or roll back.

Every place that changes a session on a user's behalf — a model turn, a custom agent
function, a remote agent applying the session its server returned, a whole user turn with
its approval pauses, an edit, an undo — records its changes with one `Recorder`:

    with Recorder(session) as recorder:
        ...  # change the session; an exception (or Ctrl-C) rolls it all back
        if failed:
            recorder.rollback()
        else:
            changes = recorder.commit()

The diff is computed once per turn: a recorder opened while another is recording the same
session (a paused turn's parts inside the whole user turn) commits without diffing and
leaves the changes to the outermost one, whose transaction holds every key they touched.
"""

from __future__ import annotations

from dcaf_cli.session.diff import Change, diff_values
from dcaf_cli.session.session import Session, Transaction


class Recorder:
    """One recorded transaction on `session`, begun when the recorder is made."""

    __slots__ = ("_diffs", "_tx", "changes")

    def __init__(self, session: Session, *, diff: bool = True) -> None:
        # The outermost recorder diffs (see above), unless its caller needs no diff.
        self._diffs = diff and not any(frame.recorded for frame in session._frames)
        self._tx = session.transaction()
        self._tx.recorded = True
        self.changes: list[Change] = []

    @property
    def open(self) -> bool:
        return self._tx.is_open

    def commit(self) -> list[Change]:
        """Keep the changes; return them (empty for a recorder nested in another)."""
        if self._tx.is_open:
            self.changes = changes_of(self._tx) if self._diffs else []
            self._tx.commit()
        return self.changes

    def rollback(self) -> None:
        """Put the session back as it was when the recorder began."""
        self._tx.rollback()
        self.changes = []

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # Any exception, a cancellation too, leaves no trace; it still propagates.
        if exc_type is not None:
            self.rollback()
        else:
            self.commit()


def changes_of(tx: Transaction) -> list[Change]:
    """The transaction's changes, key by key (only touched keys are visited)."""
    out: list[Change] = []
    for key, (before, after) in tx.changes().items():
        out += diff_values(before, after, (key,))
    return out
