"""The ASGI types the server's plain ASGI parts share, and the helpers they all need: a
header's value, a whole JSON response, and the body of a refusal."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_HEADER = (b"content-type", b"application/json")


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), as text."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_json(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """A whole response whose body is the JSON `body`."""
    raw = [JSON_HEADER, (b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def refusal_body(message: str) -> bytes:
    """A refusal's JSON: `detail` is where FastAPI (and so DCAF) says why, `error` where
    we do; compact, as FastAPI writes it."""
    body = {"detail": message, "error": message}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
