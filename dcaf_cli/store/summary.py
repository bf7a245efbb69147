"""The facts of a session file for a listing, read without parsing its history.

A listing of a folder must not cost the size of every conversation in it. dcaf writes
its files with a fixed layout (two-space indent, `dcaf_session` first, `turns` then
`meta` last), so the facts sit at the two ends of the file: the format number in the
first bytes, and in the last ones the `meta` object and the last turn record (its `n`
is the number of turns, its `input` the last thing typed). Only those ends are read.

The shortcut is safe because it proves what it assumes: a newline and two spaces before
`"meta": ` occur only at the top level of such a document (JSON strings hold no raw
newline), and what follows must parse as one object and the document's closing brace.
A file written any other way (by hand, by another tool) is parsed whole, once.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic_core

from dcaf_cli.errors import DcafError
from dcaf_cli.store.sessionfile import FORMAT_KEY, check_size, parse_session_document

_HEAD = b'{\n  "' + FORMAT_KEY.encode() + b'": '
_META = b'\n  "meta": '
_TURNS_END = b"\n  ],"
_RECORD = b"\n    {\n"
_NO_TURNS = b'"turns": [],'
_WINDOW = 16 * 1024  # meta and a usual last turn; larger ones take another read or two
_META_LIMIT = 4 * 1024 * 1024  # no meta in the last 4 MB: not dcaf's layout
_KEY = b'"' + FORMAT_KEY.encode() + b'"'


class NotASession(Exception):
    """A file in a sessions folder that a listing skips; `str()` says why."""

    def __init__(self, reason: str, *, broken: bool = False) -> None:
        super().__init__(reason)
        self.broken = broken  # a dcaf session file that cannot be read, not a foreign file


@dataclass(frozen=True, slots=True)
class Summary:
    """What a listing shows of one session file."""

    path: Path
    size: int
    mtime: float  # seconds since the epoch: when the file was last saved
    agent: str | None
    model: str | None
    revision: int
    turns: int
    last_input: str | None
    open: bool = False  # held by a writer (another dcaf) when the folder was listed

    @property
    def name(self) -> str:
        return self.path.stem


def summarize(path: Path) -> Summary:
    """The facts of the session file at `path`, or `NotASession` saying why it is not one."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise NotASession("not a regular file")
            facts = _from_ends(f, st.st_size) or _from_whole(f, st.st_size, str(path))
    except OSError as exc:
        raise NotASession(f"cannot be read: {exc.strerror or exc}") from None
    meta, last = facts
    return Summary(
        path=path,
        size=st.st_size,
        mtime=st.st_mtime,
        agent=_text(meta.get("agent")),
        model=_text(meta.get("model")),
        revision=_count(meta.get("revision")),
        turns=_count(last.get("n")) if last else 0,
        last_input=_text(last.get("input")) if last else None,
    )


Facts = tuple[dict[str, Any], Mapping[str, Any] | None]  # meta, the last turn record


def _from_ends(f: Any, size: int) -> Facts | None:
    """meta and the last turn from the file's two ends; None if the layout is not dcaf's."""
    if f.read(len(_HEAD)) != _HEAD:
        return None
    window = min(size, _WINDOW)
    while True:
        f.seek(size - window)
        tail = f.read(window)
        at = tail.rfind(_META)
        if at < 0 and window < min(size, _META_LIMIT):
            window = min(size, window * 4)  # a large meta (a big --context): read more
            continue
        meta = _parse_meta(tail[at + len(_META) :]) if at >= 0 else None
        if meta is None:
            return None  # no meta at the end: another layout
        before = tail[:at]
        if before.endswith(_NO_TURNS):
            return meta, None
        if not before.endswith(_TURNS_END):
            return None
        start = before.rfind(_RECORD)
        if start >= 0:
            last = _parse_record(before[start : len(before) - len(_TURNS_END)])
            return (meta, last) if last is not None else None
        if window == size:
            return None
        window = min(size, window * 4)  # a last turn larger than the window: read more


def _parse_meta(rest: bytes) -> dict[str, Any] | None:
    body = rest.rstrip()
    if not body.endswith(b"}"):
        return None
    try:
        meta = pydantic_core.from_json(body[:-1])
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def _parse_record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = pydantic_core.from_json(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _from_whole(f: Any, size: int, source: str) -> Facts:
    """Another layout: parse the whole file (foreign files are told apart here)."""
    try:
        check_size(size, source)
    except DcafError as exc:
        raise NotASession(str(exc).removeprefix(f"{source} ")) from None
    f.seek(0)
    data = f.read()
    try:
        value = pydantic_core.from_json(data)
    except ValueError:
        value = None
    if not isinstance(value, dict) or FORMAT_KEY not in value:
        if value is None and _KEY in data[:256]:
            raise NotASession("a dcaf session file that is not valid JSON", broken=True)
        raise NotASession("not a dcaf session file")
    try:
        doc = parse_session_document(data, source=source)
    except DcafError as exc:
        raise NotASession(str(exc).removeprefix(f"{source}: "), broken=True) from None
    return doc.meta, (doc.turns[-1] if doc.turns else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0
