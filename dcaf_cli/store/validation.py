"""`dcaf session validate`: is a session file sound, and does it hold secrets?

Three levels, which the command turns into its exit code: problems (the file is invalid:
dcaf would refuse it or could not save or undo it), warnings (it works, but look: secrets
stored in it, a history that no longer replays to the data, duplicate keys) and notes.
A file that does not even parse is a `SessionFileError` from the reader, as everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dcaf_cli.errors import DcafError
from dcaf_cli.protocol.wire import parse_messages
from dcaf_cli.session.diff import apply_patch, same
from dcaf_cli.session.jsonvalue import to_json
from dcaf_cli.session.redact import secret_paths
from dcaf_cli.session.text import plural
from dcaf_cli.store import history
from dcaf_cli.store.filestore import read_session_file
from dcaf_cli.store.records import is_count, message_count
from dcaf_cli.store.sessionfile import SessionFile, encode_document


@dataclass
class Validation:
    """What `validate_file` found."""

    doc: SessionFile
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "invalid" if self.problems else "warnings" if self.warnings else "valid"


def validate_file(path: str | os.PathLike[str]) -> Validation:
    """Read `path` (unlocked) and check it; unreadable files raise `SessionFileError`."""
    doc = read_session_file(path)
    result = Validation(doc)
    for check, what in _CHECKS:
        try:
            check(doc, result)
        except (RecursionError, ValueError, TypeError, MemoryError) as exc:
            # A file deeper or larger than a check can follow is a finding, not a crash.
            result.problems.append(f"{what}: could not be checked: {_why(exc)}")
    try:
        _check_duplicate_keys(path, result)
    except (RecursionError, ValueError, MemoryError) as exc:
        result.notes.append(f"duplicate keys were not looked for: {_why(exc)}")
    return result


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def _check_values(doc: SessionFile, result: Validation) -> None:
    for key, value in doc.session.items():
        try:
            to_json(value, key)
        except TypeError as exc:
            result.problems.append(str(exc))
    try:
        encode_document(doc, doc.meta, "the file")
    except DcafError as exc:
        result.problems.append(f"{exc} (it could not be saved again)")


def _check_messages(doc: SessionFile, result: Validation) -> None:
    try:
        parse_messages(doc.messages)
    except DcafError as exc:
        result.problems.append(f"messages: {exc}")


def _check_history(doc: SessionFile, result: Validation) -> None:
    """The undo patches must lead back to the start, and the patches forward to now."""
    numbers = [turn.get("n") for turn in doc.turns]
    whole = [n for n in numbers if type(n) is int]
    if whole != numbers or whole != sorted(set(whole)):
        result.problems.append("turns: numbers must be whole numbers in increasing order")
        return
    for turn in doc.turns:
        if not is_count(count := turn.get("messages", 0)):
            result.problems.append(
                f'turns: turn {turn["n"]}\'s "messages" count is {count!r}, not a whole'
                " number; undo could not take its messages back"
            )
    counted = sum(message_count(turn) for turn in doc.turns)
    if counted > len(doc.messages):
        result.problems.append(
            f"turns: the records count {plural(counted, 'message')}, but the file has"
            f" {len(doc.messages)}; undo could not take them back"
        )
    try:
        state: Any = history.session_at_turn(doc, 0)
    except DcafError as exc:
        result.problems.append(f"turns: {exc}")
        return
    for turn in doc.turns:
        try:
            state = apply_patch(state, turn.get("patch", []))  # it copies what it adds
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            result.warnings.append(f"turns: turn {turn['n']}'s patch does not replay")
            return
    if not same(state, doc.session):
        result.warnings.append(
            "turns: replaying the turns does not give the session data (edited by hand?);"
            " undo still works from the current data"
        )


def _check_secrets(doc: SessionFile, result: Validation) -> None:
    for where in secret_paths(doc.session):
        result.warnings.append(f"session: {where} looks like a secret; store a reference instead")
    for i, message in enumerate(doc.messages):
        if secret_paths(message.get("content")):
            result.warnings.append(f"messages[{i}]: the text looks like it holds a secret")


_CHECKS: tuple[tuple[Callable[[SessionFile, Validation], None], str], ...] = (
    (_check_values, "session values"),
    (_check_messages, "messages"),
    (_check_history, "turns"),
    (_check_secrets, "secrets"),
)


def _check_duplicate_keys(path: str | os.PathLike[str], result: Validation) -> None:
    """JSON readers keep the last of two equal keys: the first value is silently lost."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) < len(items):
            found.extend(k for k, n in Counter(k for k, _ in items).items() if n > 1)
        return out

    with open(path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    with contextlib.suppress(RecursionError, ValueError):  # read before: nothing to add
        json.loads(text, object_pairs_hook=pairs)
    if found:
        names = ", ".join(repr(k) for k in dict.fromkeys(found))
        result.warnings.append(f"duplicate keys in one object ({names}): only the last is kept")
