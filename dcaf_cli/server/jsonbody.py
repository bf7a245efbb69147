"""A request body to JSON data within `Limits`, or a 4xx naming what is wrong.

The checks run in order of cost, and those that bound memory run before `json.loads`
builds a single object: the body must be UTF-8 (so no surrogate can come in as raw
bytes), hold at most `limits.values` JSON values (counted on the text: `[`, `{` and `,`
outside strings), and then parse strictly (no NaN, no number that overflows to
infinity). After parsing, no string may hold a lone surrogate (`"\\ud800"` is valid JSON
but not Unicode, and could never be encoded back), and the body outside its sessions may
nest at most `limits.depth` levels (`Session.from_dict` bounds the sessions).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from dcaf_cli.server.intake import HTTPProblem
from dcaf_cli.server.limits import Limits
from dcaf_cli.session.jsonvalue import unencodable
from dcaf_cli.session.keypath import format_key_path

# A JSON string, unrolled so the regex engine never backtracks into it: linear time.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(body: bytes, limits: Limits) -> Any:
    if not body.strip():
        raise HTTPProblem(400, "the request body is empty; send a JSON object with `messages`")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPProblem(
            400, f"the request body is not UTF-8 (byte {exc.start}); send UTF-8 JSON"
        ) from None
    _check_size(text, limits.values)
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError:
        raise HTTPProblem(400, "the request body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, huge integers, NaN, 1e999
        raise HTTPProblem(400, f"the request body is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text):  # else no string can hold one: skip the walk
        _check_text(value)
    if _depth(_without_sessions(value), limits.depth) > limits.depth:
        raise HTTPProblem(400, f"the request body is nested deeper than {limits.depth} levels")
    return value


def _check_size(text: str, limit: int) -> None:
    """400 when the body holds more than `limit` JSON values. Counting every `[`, `{` and
    `,` over-counts (some are inside strings) and costs ~15 ms per MB; only when that
    count is over the limit are the strings taken out to count exactly."""
    count = text.count("[") + text.count("{") + text.count(",")
    if count <= limit:
        return
    outside = _STRING.sub("", text)
    count = outside.count("[") + outside.count("{") + outside.count(",")
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
