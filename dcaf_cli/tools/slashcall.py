"""Parse a direct tool call typed by a person: `/add_to_cart item=Widget quantity=2`.

Arguments are `key=value` pairs or positional values (assigned to the tool's parameters
in order). Values are parsed as JSON where they parse (`2`, `true`, `[1, 2]`, `"x"`) and
kept as strings otherwise; a parameter typed `str` always gets the text as typed (so
`/remember zip 02134` keeps the leading zero). Quoting follows the shell (POSIX `shlex`
rules), split in linear time: `shlex` builds tokens a character at a time, which made a
1 MB argument cost minutes; `split_words` matches whole runs with one regex.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dcaf_cli.errors import UsageError

_CALL = re.compile(r"^/([A-Za-z_][\w.-]*)(?:\s+(.*))?$", re.DOTALL)
_KEY = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.DOTALL)
# One piece of a command line: blanks | plain text | '...' | "..." | \x | a quote or
# backslash that starts nothing complete. Every alternative consumes what it matches
# without backtracking, so splitting is linear in the length of the line.
_PIECE = re.compile(
    r"""(\s+)|([^\s'"\\]+)|'([^']*)'|"([^"\\]*(?:\\.[^"\\]*)*)"|\\(.)|(['"\\])""",
    re.DOTALL,
)
_IN_DOUBLE_QUOTES = re.compile(r'\\(["\\])')  # the only escapes inside "..."


def split_words(text: str) -> list[str]:
    """`shlex.split(text)` (POSIX mode, no comments), in linear time; ValueError as
    shlex raises it for an unclosed quote or a trailing backslash."""
    words: list[str] = []
    word: list[str] | None = None
    for match in _PIECE.finditer(text):
        blank, plain, single, double, escaped, dangling = match.groups()
        if blank is not None:
            if word is not None:
                words.append("".join(word))
            word = None
            continue
        if dangling is not None:
            raise ValueError(_dangling(dangling, text[match.end() :]))
        if word is None:
            word = []
        if double is not None:
            word.append(_IN_DOUBLE_QUOTES.sub(r"\1", double))
        else:
            word.append(plain or single or escaped or "")
    if word is not None:
        words.append("".join(word))
    return words


@dataclass(frozen=True, slots=True)
class SlashCall:
    name: str
    arguments: dict[str, Any]


def _dangling(start: str, rest: str) -> str:
    """shlex's words for a quote or backslash left open at the end of the line."""
    trailing = len(rest) - len(rest.rstrip("\\"))
    if start == "\\" or (start == '"' and trailing % 2 == 1):
        return "No escaped character"
    return "No closing quotation"


def parse_value(text: str) -> Any:
    """JSON where it parses, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_slash(text: str) -> tuple[str, str] | None:
    """`("name", "rest")` for text that starts with `/name`, else None."""
    match = _CALL.match(text.strip())
    if not match:
        return None
    return match.group(1), (match.group(2) or "").strip()


def parse_slash_call(
    text: str, param_types: Mapping[str, str], *, open_keys: bool = False
) -> SlashCall:
    """Parse `/name args...` for a tool whose parameters (in order) have these JSON types;
    `open_keys` for a tool that also takes other named arguments (`**kwargs`)."""
    param_names = list(param_types)

    def value(pname: str, raw: str) -> Any:
        return raw if param_types.get(pname) == "string" else parse_value(raw)

    parts = split_slash(text)
    if parts is None:
        raise UsageError(f"not a tool call: {text!r}", hint="type /tool_name key=value ...")
    name, rest = parts
    try:
        tokens = split_words(rest)
    except ValueError as exc:
        raise UsageError(f"/{name}: {exc}", hint="close the quote") from None
    arguments: dict[str, Any] = {}
    positional: list[str] = []
    for token in tokens:
        match = _KEY.match(token)
        if match and match.group(1) in param_names:
            arguments[match.group(1)] = value(match.group(1), match.group(2))
        elif match and (open_keys or not param_names):
            arguments[match.group(1)] = parse_value(match.group(2))
        else:
            positional.append(token)
    free = [p for p in param_names if p not in arguments]
    if len(positional) > len(free):
        # More words than parameters: the extra words belong to the last string slot.
        head, tail = positional[: len(free) - 1], positional[len(free) - 1 :]
        positional = [*head, " ".join(tail)] if free else positional
        if not free:
            raise UsageError(f"/{name} takes no more arguments, got {' '.join(tail)!r}")
    for pname, token in zip(free, positional, strict=False):
        arguments[pname] = value(pname, token)
    return SlashCall(name, arguments)
