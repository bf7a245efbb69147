"""Standing approvals: the tools a user answered "always" for, kept in the file's meta.

They persist in the file (`meta.always_approve`, never in the session data, so tools do not
see them), because a session file is where a conversation's decisions live: the next `dcaf
run` on it honours them, `dcaf session show` lists them and `dcaf session approvals`
revokes them. The turn that granted one records it (`approved_always` in its turn record),
so undoing that turn revokes it too. Everything here is pure: the caller saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from dcaf_cli.errors import UsageError
from dcaf_cli.store.sessionfile import SessionFile, TurnRecord

TURN_FIELD: Final = "approved_always"


def standing(doc: SessionFile) -> list[str]:
    """The tools that run without asking, sorted."""
    return sorted(doc.meta.get("always_approve", []))


def grant(doc: SessionFile, names: Iterable[str]) -> list[str]:
    """Add standing approvals; returns the names that were not standing before."""
    before = set(standing(doc))
    new = sorted(set(names) - before)
    if new:
        doc.meta["always_approve"] = sorted(before | set(new))
    return new


def revoke(doc: SessionFile, names: Iterable[str]) -> list[str]:
    """Remove standing approvals that exist; returns the names removed."""
    before = set(standing(doc))
    gone = sorted(before & set(names))
    if gone:
        doc.meta["always_approve"] = sorted(before - set(gone))
    return gone


def revoke_named(doc: SessionFile, names: Iterable[str], *, everything: bool) -> list[str]:
    """`--revoke NAME`/`--revoke-all` (or `/approvals revoke NAME|all`): an unknown name is
    a usage error naming the ones there are, and nothing is revoked."""
    held = standing(doc)
    wanted = held if everything else list(names)
    unknown = [name for name in wanted if name not in held]
    if unknown:
        there = ", ".join(held) if held else "none"
        raise UsageError(
            f"{', '.join(unknown)} has no standing approval (standing approvals: {there})"
        )
    return revoke(doc, wanted)


def revoke_granted_by(doc: SessionFile, turns: Iterable[TurnRecord]) -> list[str]:
    """Revoke what the given (undone) turns granted."""
    names = [str(n) for t in turns for n in _granted(t)]
    return revoke(doc, names)


def _granted(turn: TurnRecord) -> list[object]:
    value: object = turn.get(TURN_FIELD, [])  # from a file: maybe not what we wrote
    return list(value) if isinstance(value, list) else []
