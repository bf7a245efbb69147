"""From HTTP bytes to a checked chat request, or a 4xx naming what is wrong.

Nothing a client sends may become a 5xx: the body is read up to a limit (413), parsed as
strict JSON (400: no NaN, no absurd nesting), validated against the protocol's shapes
(422, naming the field), and its session checked before any agent code runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dcaf_cli.protocol.approvals import Folded, fold
from dcaf_cli.protocol.wire import ChatRequest, WireMessage, session_message
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import kind, validation_problems

DEFAULT_MAX_BODY = 4 * 1024 * 1024
MAX_DEPTH = 100  # nesting levels of the body outside sessions (Session bounds those)


class HTTPProblem(Exception):
    """A request the server refuses: `status` and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


MISSING_MESSAGES = "'messages' field missing from request body"  # DCAF's words, and 400


@dataclass(slots=True)
class ChatInput:
    """A checked request: the messages (in the runtime's shape, see `approvals.fold`), the
    session they carry, the request's other top-level fields.

    `session` stays as it came (a failed turn returns it); `live` is the Session the turn
    runs on (a copy); `session_signature` is the one sent with it.
    """

    messages: list[WireMessage]
    session: dict[str, Any]
    context: dict[str, Any]
    live: Session
    folded: Folded
    session_signature: object = None


async def read_limited(chunks: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be longer than `limit`."""
    too_big = HTTPProblem(413, f"the request body is larger than {limit} bytes")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf, which JSON cannot send back
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise HTTPProblem(400, "the request body is empty; send a JSON object with `messages`")
    try:
        value = json.loads(body, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError:
        raise HTTPProblem(400, "the request body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers, NaN
        raise HTTPProblem(400, f"the request body is not valid JSON: {exc}") from None
    if _depth(_without_sessions(value)) > MAX_DEPTH:
        raise HTTPProblem(400, f"the request body is nested deeper than {MAX_DEPTH} levels")
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


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack += [(child, level + 1) for child in item]
    return deepest


def parse_chat(value: Any) -> ChatInput:
    """Validate a parsed body as a chat request (422 names the first bad field)."""
    if not isinstance(value, dict):
        raise HTTPProblem(
            422, f"the request body must be a JSON object with `messages`, not {kind(value)}"
        )
    if "messages" not in value:
        raise HTTPProblem(400, MISSING_MESSAGES)
    try:
        request = ChatRequest.model_validate(value)
    except ValidationError as exc:
        raise HTTPProblem(422, f"bad request: {validation_problems(exc, 'body')}") from None
    folded = fold(request.messages)
    if folded.foreign:
        approval = folded.foreign[0]
        raise HTTPProblem(
            403,
            f"refused to run {approval.name} ({approval.id}): this server runs only tool "
            f"calls it proposed, not {approval.type!r} approvals",
        )
    carrier = session_message(request.messages)
    session = carrier.data.session or {} if carrier is not None else {}
    try:
        live = Session.from_dict(session)  # values a Session cannot hold are refused here
    except (TypeError, ValueError) as exc:
        raise HTTPProblem(422, f"bad request: data.session: {exc}") from None
    extra: Mapping[str, Any] = carrier.data.model_extra or {} if carrier is not None else {}
    return ChatInput(
        request.messages,
        session,
        request.context,
        live,
        folded,
        extra.get("session_signature"),
    )
