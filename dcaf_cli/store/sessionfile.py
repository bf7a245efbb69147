"""The session file format: one versioned JSON document per conversation (DESIGN.md §7).

Pure data in, data out; `store.py` does the file I/O. Reading is strict: anything that is
not a well-formed version-1 document (or a bare session object, which older tools and the
HelpDesk protocol's `data.session` produce) is a `SessionFileError` of one line naming the
source, what is wrong (with line and column where that applies) and what to do.

Encoding is orjson when it is installed, else `pydantic_core.to_json` (the same bytes;
both Rust, about 9x faster than the stdlib's indenting encoder, orjson 3-6x faster again
on plain dicts), straight from the live dicts, with no copies. Decoding is
`pydantic_core.from_json`; only when it fails does the stdlib parser run again, for its
friendlier messages and for documents nested deeper than pydantic_core's 200 levels.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, cast

import pydantic_core

from dcaf_cli import settings
from dcaf_cli.errors import SessionFileError
from dcaf_cli.session.fastjson import fast_json
from dcaf_cli.session.jsontext import dumps
from dcaf_cli.session.text import kind, one_line

if TYPE_CHECKING:  # imported when first used: `dcaf session show` never needs a Session
    from dcaf_cli.session.session import Session

FORMAT_VERSION = 1
FORMAT_KEY = "dcaf_session"
_FIELDS = (FORMAT_KEY, "session", "messages", "turns", "meta")
_FIX = "fix it in an editor, or move it aside to start a new session"


def utc_timestamp() -> str:
    """Now, as the file records times: `2026-11-25T12:00:00Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TurnRecord(TypedDict):
    """One entry of `turns`: what a turn did, so it can be shown, undone and replayed.

    Written by `history.record_turn`. A record read from a file is only as good as the
    file: readers that must survive a hand edit (`log`, `validate`, undo) use `.get` and
    check what they find.
    """

    n: int  # 1, 2, 3, ... in order
    at: str  # when, as `utc_timestamp` writes it
    input: str  # what was typed, or the edit (`/set coupon SAVE10`)
    kind: Literal["chat", "edit"]  # a turn of the agent, or a change by hand
    tool_calls: NotRequired[list[dict[str, Any]]]  # only where no message holds them
    reply: NotRequired[str | None]  # (records.py reads both, from here or the messages)
    patch: list[dict[str, Any]]  # RFC 6902: the session before -> after
    undo: list[dict[str, Any]]  # RFC 6902: after -> before
    messages: int  # how many messages the turn appended (undo removes them)
    approved_always: NotRequired[list[str]]  # tools answered "always" (undo revokes them)


@dataclass
class SessionFile:
    """The in-memory image of one session file."""

    session: dict[str, Any]  # exactly Session.to_dict() data
    messages: list[dict[str, Any]]  # HelpDesk-protocol messages
    turns: list[TurnRecord]
    meta: dict[str, Any]  # revision, created, updated, agent, model, always_approve, ...
    notice: str | None = None  # one line for the user about how the file was read
    extra: dict[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept
    _live: Session | None = field(default=None, init=False, repr=False, compare=False)

    def live_session(self) -> Session:
        """The one `Session` over this document's data, made on first use.

        It takes `session` over as it is (parsed JSON: no check, no copy, which for 10 MB
        would cost ~0.4 s and a second set of containers) and is from then on its only
        writer: turns, edits and undo all change the data through it, while `session`
        stays the same dict, which saving reads. Replace the data by reading the file again
        (`SessionStore.reload`), never by assigning `session` once this has been called.
        """
        if self._live is None:
            from dcaf_cli.session.session import Session

            self._live = Session.adopt(self.session)
        return self._live

    @property
    def revision(self) -> int:
        """How many times the file has been saved (0: never)."""
        return int(self.meta.get("revision", 0))


def new_session_file(*, agent: str | None = None, model: str | None = None) -> SessionFile:
    """An empty session that has never been saved."""
    meta: dict[str, Any] = {"revision": 0}
    if agent is not None:
        meta["agent"] = agent
    if model is not None:
        meta["model"] = model
    return SessionFile(session={}, messages=[], turns=[], meta=meta)


_SAVING_WRITES = " saving it writes the full format (session, messages, turns, meta)"

# -- decoding --------------------------------------------------------------------------


def parse_session_document(data: str | bytes, *, source: str) -> SessionFile:
    """Read a session document (or a bare session object) from text; `source` names it."""
    check_size(len(data), source)
    if not data or data.isspace():  # isspace stops at the first other character: cheap
        # `touch x.json` before a first run: nothing to lose, so it is a new session.
        doc = new_session_file()
        doc.notice = f"{source} is empty, read as an empty session;{_SAVING_WRITES}"
        return doc
    return _from_value(_decode_json(data, source), source)


def _decode_json(data: str | bytes, source: str) -> Any:
    # Windows editors add a byte-order mark; it carries no meaning in UTF-8.
    if isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif isinstance(data, str) and data.startswith("\ufeff"):
        data = data[1:]
    try:
        value = pydantic_core.from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        return _decode_slowly(data, str(exc), source)
    # pydantic_core reads `1e999` as infinity, which the next save would turn into null:
    # a number that might overflow (a 3-digit exponent, 300 digits) takes the strict path.
    maybe_huge = _HUGE_BYTES if isinstance(data, bytes) else _HUGE_TEXT
    if maybe_huge.search(data):  # type: ignore[arg-type]  # the pattern matches data's type
        return _decode_strictly(_utf8_text(data, source), source, "")
    return value


_HUGE_TEXT = re.compile(r"\d[eE]\+?\d{3}|\d{300}")
_HUGE_BYTES = re.compile(_HUGE_TEXT.pattern.encode())
MAX_DIGITS = 4300  # Python's own limit on converting an integer's digits


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonFinite(f"{name} is not valid JSON (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(f"the number {text[:20]} is too large for a 64-bit float")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _NonFinite(f"an integer of {len(text)} digits is longer than {MAX_DIGITS}")
    return int(text)


_JITER_AT = re.compile(r"^(.*) at line (\d+) column (\d+)$")


def _decode_slowly(data: str | bytes, fast_error: str, source: str) -> Any:
    """Explain why `data` does not parse, or parse it if only pydantic_core's depth limit hit."""
    match = _JITER_AT.match(fast_error)
    problem, where = (
        (match[1], f"line {match[2]} column {match[3]}: ") if match else (fast_error, "")
    )
    value = _decode_strictly(_utf8_text(data, source), source, where)
    if "recursion limit" in problem:
        return value  # deeper than pydantic_core parses, but the stdlib read it fine
    raise bad(source, f"{where}not valid JSON: {problem}")


def _decode_strictly(text: str, source: str, where: str) -> Any:
    """The stdlib's parse, refusing what JSON data cannot be: NaN, Infinity, numbers that
    overflow a float (`1e999`) and integers too long to convert."""
    try:
        return json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except json.JSONDecodeError as exc:
        msg = exc.msg.removesuffix(" at")  # the stdlib says "Invalid control character at"
        if exc.pos >= len(text.rstrip()):
            msg = f"the file ends too early ({msg}; was it cut short?)"
        raise bad(source, f"line {exc.lineno} column {exc.colno}: not valid JSON: {msg}") from None
    except _NonFinite as exc:
        raise bad(source, f"{where}{exc}", "edit that number, or move the file aside") from None
    except RecursionError:
        msg = (
            "is nested too deeply to read (over about 900 levels of objects or lists, the"
            " most the JSON parser follows)"
        )
        raise bad(source, msg) from None


def _utf8_text(data: str | bytes, source: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise bad(
            source,
            f"line {line} column {column}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save it as UTF-8, or move it aside to start a new session",
        ) from None


def _from_value(value: Any, source: str) -> SessionFile:
    if not isinstance(value, dict):
        raise bad(source, f"holds {kind(value)}, but a session file is a JSON object")
    if FORMAT_KEY not in value:
        doc = new_session_file()
        doc.session = value
        doc.notice = f"{source} holds bare session data, not the dcaf format;{_SAVING_WRITES}"
        return doc
    _check_version(value[FORMAT_KEY], source)
    doc = SessionFile(
        session=_field(value, "session", dict, source),
        messages=_records(value, "messages", source),
        turns=cast("list[TurnRecord]", _records(value, "turns", source)),
        meta=_field(value, "meta", dict, source),
        extra={k: v for k, v in value.items() if k not in _FIELDS},
    )
    _check_meta(doc.meta, source)
    return doc


def _check_version(version: Any, source: str) -> None:
    if type(version) is not int:
        raise bad(source, f'"{FORMAT_KEY}" must be a format number, not {kind(version)}')
    if version > FORMAT_VERSION:
        raise bad(
            source,
            f"was written by a newer dcaf (format {version}; this one reads format"
            f" {FORMAT_VERSION})",
            "upgrade dcaf-cli to open it",
        )
    if version < 1:
        raise bad(source, f'"{FORMAT_KEY}": {version} is not a known format number')


def _field(value: dict[str, Any], name: str, expected: type, source: str) -> Any:
    if name not in value:
        return expected()
    got = value[name]
    if not isinstance(got, expected):
        raise bad(source, f'"{name}" must be {kind(expected())}, not {kind(got)}')
    return got


def _records(value: dict[str, Any], name: str, source: str) -> list[dict[str, Any]]:
    records: list[Any] = _field(value, name, list, source)
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise bad(source, f'"{name}"[{i}] must be an object, not {kind(record)}')
    return records


def _check_meta(meta: dict[str, Any], source: str) -> None:
    revision = meta.get("revision", 0)
    if type(revision) is not int or revision < 0:
        raise bad(source, f'"meta"."revision" must be a whole number >= 0, not {revision!r}')
    approve = meta.get("always_approve", [])
    if not isinstance(approve, list) or not all(isinstance(t, str) for t in approve):
        raise bad(source, '"meta"."always_approve" must be a list of tool names')


def bad(source: str, problem: str, todo: str = _FIX) -> SessionFileError:
    """The one-line error: "<source>: <what is wrong>; <what to do>"."""
    sep = " " if problem.startswith(("is ", "was ", "holds ")) else ": "
    return SessionFileError(one_line(f"{source}{sep}{problem}; {todo}"))


def check_size(size: int, source: str) -> None:
    """Refuse documents over the limit before reading them (`DCAF_MAX_FILE_MB`)."""
    limit_mb = settings.max_file_mb()
    if size > limit_mb * 1_000_000:
        raise bad(
            source,
            f"is {size / 1_000_000:.1f} MB, over the {limit_mb:g} MB limit for session files",
            f"set {settings.MAX_FILE_MB} to a larger number of megabytes to open it",
        )


# -- encoding --------------------------------------------------------------------------


def dump_session_document(doc: SessionFile) -> bytes:
    """The exact bytes a save writes for `doc` (as it is; save bumps the revision first)."""
    return encode_document(doc, doc.meta, "the session") + b"\n"


def encode_document(doc: SessionFile, meta: dict[str, Any], source: str) -> bytes:
    """`doc` with `meta` in its place, as JSON without the final newline.

    `source` starts the one-line error for data that is not JSON (a value that slipped
    past `Session`'s checks): "cannot save x.json:" or "the session".
    """
    return _encode(_envelope(doc, meta), source)


def _envelope(doc: SessionFile, meta: dict[str, Any]) -> dict[str, Any]:
    # A shallow frame around the live data: serialising must not copy a 10 MB session.
    out = {
        FORMAT_KEY: FORMAT_VERSION,
        "session": doc.session,
        "messages": doc.messages,
        "turns": doc.turns,
        "meta": meta,
    }
    out.update((k, v) for k, v in doc.extra.items() if k not in out)
    return out


def _encode(envelope: dict[str, Any], source: str) -> bytes:
    fast = fast_json()
    if fast is not None:
        # The same bytes as pydantic_core's below, 3-6x sooner on a large session (plain
        # dicts and lists are pydantic_core's slow, type-inferring path); NaN is null too.
        try:
            body: bytes = fast.dumps(envelope, option=fast.OPT_INDENT_2)
            return body
        except fast.JSONEncodeError:
            pass  # an integer over 64 bits, nesting over 254 levels: let the others decide
    try:
        # NaN and Infinity become null: `Session` already refuses them, so one can only come
        # from a record (a model's `1e999` argument), and a save that failed for it on every
        # turn after would be worse than a null in a log. The file stays valid JSON.
        return pydantic_core.to_json(envelope, indent=2, inf_nan_mode="null")
    except pydantic_core.PydanticSerializationError:
        pass  # deeper than its 255 levels, or not JSON data: let `dumps` decide
    try:
        # The same bytes again, at any depth (json.dumps's indenting encoder recurses).
        return dumps(envelope, indent=2, nan="null").encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise bad(source, f"holds data JSON cannot store ({exc})", "nothing was saved") from None
