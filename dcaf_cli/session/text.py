"""Text for people, from data and errors: one implementation of each, for every layer.

- `one_line` keeps the one-line promise of error messages: paths, data and exception text
  may hold newlines or terminal control characters, which must neither break the line nor
  act on the terminal.
- `visible_controls` does the same for multi-line text (a reply, a transcript): tab and
  newline stay, every other control character is shown as `\\x1b`.
- `shorten` cuts a one-line text to a width, with `…` (`cut` does only the cutting).
- `exception_line` is how users (and models) see a failure.
- `kind` names the JSON type of a value in an error (`not a list`).
- `plural` counts things: `1 turn`, `2 turns`, `no turns`.
- `validation_problems` says where and why pydantic refused a value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dcaf_cli.errors import DcafError

if TYPE_CHECKING:
    from pydantic import ValidationError

# C0 controls but tab and newline, DEL, and C1 controls (CSI 0x9b among them).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible_controls(text: str) -> str:
    """`text` with control characters but tab and newline written as `\\x1b`, so they
    cannot act."""
    return CONTROL.sub(lambda m: _escaped(m.group(0)), text)


def one_line(text: str) -> str:
    """`text` on one line: runs of white space (newlines too) become one space, and any
    other character that does not print is written as an escape (`\\x1b`, `\\u202e`)."""
    line = " ".join(text.split())
    if line.isprintable():  # the common case, checked in one pass
        return line
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in line)


def cut(text: str, width: int) -> str:
    """`text` cut to `width` characters, the last one `…`."""
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def shorten(text: str, width: int) -> str:
    """`text` on one line (see `one_line`), cut to `width` characters with `…`."""
    return cut(one_line(text), width)


def exception_line(exc: BaseException) -> str:
    """`Type: message` on one line, as users and models see a failure. A `DcafError`'s
    message is written for them already, so it comes without its type."""
    text = one_line(str(exc))
    if isinstance(exc, DcafError):
        return text
    return f"{type(exc).__name__}: {text or '(no message)'}"


_KINDS = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "true/false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def kind(value: Any) -> str:
    """The JSON type of `value`, for messages: `a list`, `true/false`, `null`."""
    return _KINDS.get(type(value)) or f"a {type(value).__name__}"


def error_location(loc: Sequence[str | int], whole: str) -> str:
    """Where in a value pydantic found a problem: `messages.0.role`, or `whole` for the
    value itself."""
    return ".".join(str(part) for part in loc) or whole


def validation_problems(exc: ValidationError, whole: str, *, limit: int = 1) -> str:
    """The first `limit` problems pydantic found, as `where: what` joined by `; `."""
    return "; ".join(
        f"{error_location(err['loc'], whole)}: {err['msg']}" for err in exc.errors()[:limit]
    )


def plural(count: int, noun: str, *, zero: str | None = None) -> str:
    """`1 turn`, `2 turns`, `0 keys` (or `zero` for none: `no turns`)."""
    if count == 0 and zero is not None:
        return zero
    return f"{count} {noun}{'' if count == 1 else 's'}"
