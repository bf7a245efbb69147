"""A request body to JSON data within `Limits`, or a 4xx naming what is wrong.

The checks run in order of cost, and those that bound memory run before a single object
is built: the body may hold at most `limits.values` JSON values (counted on the bytes:
`[`, `{` and `,` outside strings). Then it is parsed strictly: UTF-8 (so no surrogate can
come in as raw bytes), no NaN, no number that overflows to infinity, and no string (or
key) holding a lone surrogate (`"\\ud800"` is valid JSON but not Unicode, and could never
be encoded back). orjson parses when it is installed, and refuses all of these itself;
the stdlib parser runs when it is not, or when orjson refuses, to say exactly why. Last,
the body outside its sessions may nest at most `limits.depth` levels (the sessions are
bounded where they become a `Session`: see `intake`).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from dcaf_cli.server.intake import HTTPProblem
from dcaf_cli.server.limits import Limits
from dcaf_cli.session.fastjson import fast_json
from dcaf_cli.session.jsonvalue import unencodable
from dcaf_cli.session.keypath import format_key_path

# A JSON string, unrolled so the regex engine never backtracks into it: linear time.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(body: bytes, limits: Limits) -> Any:
    if not body.strip():
        raise HTTPProblem(400, "the request body is empty; send a JSON object with `messages`")
    _check_size(body, limits.values)
    value = _fast_parse(body)
    if value is _UNPARSED:
        value = _parse(body)
    if _depth(_without_sessions(value), limits.depth) > limits.depth:
        raise HTTPProblem(400, f"the request body is nested deeper than {limits.depth} levels")
    return value


_UNPARSED = object()
# orjson reads an integer over 64 bits as a float: a run of 19 digits goes to the stdlib.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_NUMBER = b"0" * 19


def _fast_parse(body: bytes) -> Any:
    """The body parsed by orjson, which is as strict as the checks of `_parse` (UTF-8, no
    lone surrogate, no NaN or infinite number); `_UNPARSED` when it is not installed, may
    not read a number as the stdlib would, or refuses the body (`_parse` then says why)."""
    fast = fast_json()
    if fast is None or _LONG_NUMBER in body.translate(_DIGITS_TO_ZERO):
        return _UNPARSED
    try:
        return fast.loads(body)
    except fast.JSONDecodeError:
        return _UNPARSED


def _parse(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPProblem(
            400, f"the request body is not UTF-8 (byte {exc.start}); send UTF-8 JSON"
        ) from None
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError:
        raise HTTPProblem(400, "the request body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, huge integers, NaN, 1e999
        raise HTTPProblem(400, f"the request body is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text):  # else no string can hold one: skip the walk
        _check_text(value)
    return value


def _check_size(body: bytes, limit: int) -> None:
    """400 when the body holds more than `limit` JSON values, as counted here: every `[`,
    `{` and `,` outside strings. A body of at most `limit` bytes passes uncounted. Else,
    counting them everywhere over-counts (some are inside strings) and costs ~1 ms per MB;
    only when that count is over the limit are the strings taken out to count exactly."""
    if len(body) <= limit:  # each counted byte is one byte of the body
        return
    count = body.count(b"[") + body.count(b"{") + body.count(b",")
    if count <= limit:
        return
    outside = _STRING.sub(b"", body)
    count = outside.count(b"[") + outside.count(b"{") + outside.count(b",")
    if count > limit:
        raise HTTPProblem(
            400,
            f"the request body holds more than {limit} JSON values; send less, or raise "
            "the server's --max-values",
        )


def _check_text(value: Any) -> None:
    """400 naming where a string (or key) is not valid Unicode."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if unencodable(item):
                raise HTTPProblem(400, _bad_text(path, "a string"))
        elif isinstance(item, dict):
            for key, child in item.items():
                if unencodable(key):
                    raise HTTPProblem(400, _bad_text(path, "a key"))
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack += [(child, (*path, i)) for i, child in enumerate(item)]


def _bad_text(path: tuple[str | int, ...], what: str) -> str:
    where = format_key_path(path) or "the body"
    return (
        f"{where}: {what} holds a lone surrogate (such as \\ud800), which is not valid "
        "Unicode; send text as UTF-8"
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf, which JSON cannot send back
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _without_sessions(body: Any) -> Any:
    """The body minus `data.session` of each message: the session is walked (and its
    depth bounded) by `Session.from_dict` anyway, so walking it here would cost twice."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return body
    return {**body, "messages": [_message_without_session(m) for m in messages]}


def _message_without_session(message: Any) -> Any:
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict) or "session" not in data:
        return message
    return {**message, "data": {k: v for k, v in data.items() if k != "session"}}


def _depth(value: Any, limit: int) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= limit:
                stack += [(child, level + 1) for child in item]
    return deepest
