"""Turn records: what each turn did to the session, so it can be shown, undone and replayed.

A record (`TurnRecord`, in sessionfile.py) holds the turn's number, time, input and kind,
a `patch` that takes the session from before the turn to after it
and an `undo` that takes it back (RFC 6902 JSON Patch documents from `diff.py`), and how
many conversation messages the turn appended, whose last one holds the turn's tool calls
and reply (records.py reads them). Everything here is pure: the caller saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

from dcaf_cli.errors import SessionFileError, UsageError
from dcaf_cli.session import diff
from dcaf_cli.session.jsonvalue import JSON, copy_json
from dcaf_cli.session.text import plural
from dcaf_cli.store import approvals, records
from dcaf_cli.store.sessionfile import SessionFile, TurnRecord, utc_timestamp

Patch = list[diff.PatchOp]


def record_turn(
    doc: SessionFile,
    *,
    input: str,
    changes: list[diff.Change],
    tool_calls: list[dict[str, Any]],
    reply: str | None,
    messages: list[dict[str, Any]] | None = None,
    kind: Literal["chat", "edit"] = "chat",
) -> TurnRecord:
    """Append the record of a turn the caller has already applied to `doc`, and return it.

    `doc.session` must already hold the turn's result and `messages` (the ones this turn
    appended) must already be in `doc.messages`; the record remembers how many there
    were, so that undoing the turn removes them again. The calls and the reply are
    copied into the record only when the last of those messages does not hold them.
    """
    record: TurnRecord = {
        "n": _next_number(doc.turns),
        "at": utc_timestamp(),
        "input": input,
        "kind": kind,
        # Copies: patch values would otherwise share objects with the live session, and
        # a later in-place patch (an undo) would rewrite this turn's history too.
        "patch": _detached(diff.to_patch(changes)),
        "undo": _detached(diff.to_undo(changes)),
        "messages": len(messages) if messages is not None else 0,
    }
    if not records.points_at(messages or [], tool_calls, reply):
        # No message holds them (a direct call over MCP, an edit): the record does. A
        # turn with messages keeps both, even empty: a record holding neither is read
        # from its last message, which here says something else.
        if tool_calls or messages:
            record["tool_calls"] = list(tool_calls)
        if reply is not None or messages:
            record["reply"] = reply
    doc.turns.append(record)
    return record


def undo_turns(doc: SessionFile, n: int = 1) -> list[TurnRecord]:
    """Reverse the last `n` turns in `doc`: session changes, messages, records, and the
    standing approvals they granted.

    All or nothing: if a record cannot be undone, `doc` is left as it was. Returns the
    removed records, oldest first. The caller saves.
    """
    if n < 1:
        raise UsageError(f"cannot undo {n} turns: give a number of turns of 1 or more")
    if n > len(doc.turns):
        have = len(doc.turns)
        held = "the file has no turns" if have == 0 else f"the file has only {_turns(have)}"
        raise UsageError(f"cannot undo {_turns(n)}: {held}")
    undone = doc.turns[-n:]
    dropped = sum(_message_count(turn) for turn in undone)
    if dropped > len(doc.messages):
        raise _broken(
            undone[-1], f"its records add up to {plural(dropped, 'message')}, more than exist"
        )
    earlier = _rewound(doc.session, undone)
    session = doc.live_session()  # the data's one writer: transactions see the undo too
    for key, value in earlier.items():
        if value is _ABSENT:
            session.delete(key)
        else:
            session.set(key, value)
    del doc.turns[-n:]
    if dropped:
        del doc.messages[-dropped:]
    approvals.revoke_granted_by(doc, undone)
    return undone


def session_at_turn(doc: SessionFile, n: int) -> dict[str, Any]:
    """A copy of the session as it was right after turn `n` (0: before the first turn).

    Rebuilt backwards, by applying undo patches to the current session, never forwards
    from an empty one: the file may have begun from a bare object that already held data
    (or from records trimmed away), so the state before the first turn is only known by
    walking back from now, while the current state is always exactly known.
    """
    numbers = [turn.get("n") for turn in doc.turns]
    if n == 0:
        later = doc.turns
    elif n in numbers:
        later = doc.turns[numbers.index(n) + 1 :]
    else:
        raise UsageError(f"there is no turn {n}: {_turn_range(numbers)}")
    state = {key: copy_json(value) for key, value in doc.session.items()}
    for key, value in _rewound(doc.session, later).items():
        if value is _ABSENT:
            state.pop(key, None)
        else:
            state[key] = value
    return state


_ABSENT: Any = object()  # in `_rewound`'s answer: the key did not exist then


def _rewound(session: dict[str, Any], turns: Sequence[TurnRecord]) -> dict[str, Any]:
    """The top-level values the turns' undo patches touch, as they were before the turns
    (`_ABSENT` for a key that did not exist then); `session` itself is not changed.

    The patches run, newest first, on copies of only the keys they touch, so a patch that
    does not fit raises before anything changes, and undoing a turn costs the size of
    those keys, not of the whole session.
    """
    patches = [(turn, _undo_patch(turn)) for turn in reversed(turns)]
    keys = {key for _, patch in patches for key in _top_keys(patch)}
    scratch = {k: copy_json(session[k]) for k in keys if k in session}
    for turn, patch in patches:
        try:
            diff.apply_patch(scratch, patch)  # in place: no path is the root (_undo_patch)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise _broken(turn, f"its undo patch does not fit the session ({exc!r})") from None
    # In the session's key order (then the keys it no longer has), not the set's, which
    # changes from run to run: the undo's changes are shown in this order.
    ordered = [k for k in session if k in keys] + sorted(keys.difference(session))
    return {key: scratch.get(key, _ABSENT) for key in ordered}


def _undo_patch(turn: TurnRecord) -> Patch:
    patch = turn.get("undo", [])
    if not isinstance(patch, list) or not all(_is_op(op) for op in patch):
        raise _broken(turn, 'its "undo" is not a JSON Patch (a list of operations)')
    for op in patch:
        if op["path"] == "":
            raise _broken(
                turn, "its undo patch replaces the whole session, which dcaf never writes"
            )
        try:
            diff.parse_pointer(op["path"])
        except ValueError as exc:
            raise _broken(turn, f"its undo patch has a bad path ({exc})") from None
    return patch


def _is_op(op: object) -> bool:
    return isinstance(op, dict) and isinstance(op.get("path"), str) and "op" in op


def _top_keys(patch: Patch) -> set[str]:
    return {str(diff.parse_pointer(op["path"])[0]) for op in patch}


def _detached(patch: Patch) -> Patch:
    return [{**op, "value": copy_json(op["value"])} if "value" in op else op for op in patch]


def _next_number(turns: list[TurnRecord]) -> int:
    last = turns[-1].get("n") if turns else 0
    return last + 1 if type(last) is int else len(turns) + 1


def _message_count(turn: TurnRecord) -> int:
    count = turn.get("messages", 0)
    if not records.is_count(count):
        raise _broken(turn, f'its "messages" count is {count!r}, not a whole number')
    return count


def _broken(turn: TurnRecord, problem: str) -> SessionFileError:
    return SessionFileError(
        f"cannot undo turn {turn.get('n', '?')}: {problem}; nothing was changed"
    )


def _turns(count: int) -> str:
    return plural(count, "turn", zero="no turns")


def _turn_range(numbers: list[Any]) -> str:
    if not numbers:
        return "the file has no turns yet"
    return f"the file has turns {numbers[0]} to {numbers[-1]} (0 is before the first)"


def fork_at(doc: SessionFile, n: int, *, source: str) -> SessionFile:
    """A new, never saved document holding `doc`'s first `n` turns: the session as it was
    after turn `n`, the messages up to it, and their records (0: before the first turn).

    The fork remembers where it came from in `meta.forked_from`.
    """
    state = session_at_turn(doc, n)  # raises for a turn the file does not have
    numbers = [turn.get("n") for turn in doc.turns]
    kept = doc.turns[: numbers.index(n) + 1] if n else []
    later = doc.turns[len(kept) :]
    dropped = sum(_message_count(turn) for turn in later)
    messages = doc.messages[: max(0, len(doc.messages) - dropped)]
    meta = {
        key: copy_json(value)
        for key, value in doc.meta.items()
        if key not in ("revision", "created", "updated")
    }
    meta["revision"] = 0
    meta["forked_from"] = {"file": source, "turn": n, "revision": doc.revision}
    return SessionFile(
        session=state,
        messages=[copy_json(m) for m in messages],  # type: ignore[misc]
        turns=[cast("TurnRecord", copy_json(cast("JSON", t))) for t in kept],
        meta=meta,
    )
