"""From HTTP bytes to a checked chat request, or a 4xx naming what is wrong.

Nothing a client sends may become a 5xx: the body is read up to a limit and a deadline
(413, 408), parsed as strict JSON within the limits (400: see `jsonbody`), validated
against the protocol's shapes (422, naming the field), and its session checked before
any agent code runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dcaf_cli.protocol.approvals import Folded, fold
from dcaf_cli.protocol.wire import ChatRequest, WireMessage, session_message
from dcaf_cli.session.fastjson import fast_json
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import kind, validation_problems


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


async def read_limited(
    chunks: AsyncIterator[bytes], declared: str | None, limit: int, seconds: float
) -> bytes:
    """The whole body; 413 as soon as it is known to be longer than `limit`, 408 when it
    takes longer than `seconds` to arrive (a client trickling bytes holds no worker)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_big(limit)
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):  # the server runs on asyncio (uvicorn)
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise _too_big(limit)
    except TimeoutError:
        raise HTTPProblem(
            408, f"the request body did not arrive within {seconds:g} seconds"
        ) from None
    return parts[0] if len(parts) == 1 else b"".join(parts)  # usually one: no copy


def _too_big(limit: int) -> HTTPProblem:
    return HTTPProblem(413, f"the request body is larger than {limit} bytes")


def parse_chat(value: Any, text_chars: int) -> ChatInput:
    """Validate a body parsed by `jsonbody.parse_json` as a chat request (422 names the
    first bad field); no message's content may be longer than `text_chars`."""
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
    for index, message in enumerate(request.messages):
        if len(message.content) > text_chars:
            raise HTTPProblem(
                422,
                f"bad request: messages.{index}.content: longer than {text_chars} characters "
                "(the server's --max-text)",
            )
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
    live = live_session(session)
    extra: Mapping[str, Any] = carrier.data.model_extra or {} if carrier is not None else {}
    return ChatInput(
        request.messages,
        session,
        request.context,
        live,
        folded,
        extra.get("session_signature"),
    )


def live_session(session: dict[str, Any]) -> Session:
    """The Session a turn runs on, from a session fresh from `parse_json` (so JSON data).

    Copying and checking it value by value (`Session.from_dict`) costs several times
    what parsing it did. When orjson can encode it, it nests at most 254 levels and holds
    nothing a Session cannot, so the Session takes a copy of its top level only (a Session
    never changes a stored value in place: it replaces it). Else the full check runs, and
    refuses what a Session cannot hold (422)."""
    fast = fast_json()
    if fast is not None:
        try:
            fast.dumps(session)
        except fast.JSONEncodeError:
            pass
        else:
            return Session.adopt(dict(session))
    try:
        return Session.from_dict(session)
    except (TypeError, ValueError) as exc:
        raise HTTPProblem(422, f"bad request: data.session: {exc}") from None
