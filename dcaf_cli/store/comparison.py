"""What `dcaf session diff` compares: two files, or one file now and after one of its turns."""

from __future__ import annotations

import os
from typing import Any

from dcaf_cli.errors import UsageError
from dcaf_cli.store.filestore import read_session_file
from dcaf_cli.store.history import session_at_turn

Compared = tuple[str, dict[str, Any], dict[str, Any]]  # (a label, before, after)


def sessions_to_compare(
    a: str | os.PathLike[str], b: str | os.PathLike[str] | None, turn: int | None
) -> Compared:
    """A against B; else A after turn `turn` against A now; else what A's last turn did."""
    if b is not None and turn is not None:
        raise UsageError("give a second file or --turn, not both")
    doc = read_session_file(a)
    if b is not None:
        return f"{os.fspath(a)} → {os.fspath(b)}", doc.session, read_session_file(b).session
    if turn is not None:
        return f"{os.fspath(a)}: after turn {turn} → now", session_at_turn(doc, turn), doc.session
    if not doc.turns:
        return f"{os.fspath(a)}: no turns yet", doc.session, doc.session
    numbers = [record.get("n") for record in doc.turns]
    previous = numbers[-2] if len(numbers) > 1 else 0
    label = f"{os.fspath(a)}: what turn {numbers[-1]} changed"
    return label, session_at_turn(doc, int(previous or 0)), doc.session
