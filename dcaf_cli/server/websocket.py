"""`WS /api/chat-ws`: DCAF's WebSocket endpoint, with the same checks as HTTP.

Each text message is one request, exactly the body `/api/chat` takes; the server answers
with that turn's events (see `stream`), and the connection stays open for the next one.
Every turn ends with exactly one of:

    {"type": "done", "stop_reason": ..., "meta_data": ..., "message": {...}}
    {"type": "error", "error": "...", "code": 403}      a refused request (nothing ran)
    {"type": "error", "error": "...", "message": {...}} a failed turn (session as it came)

One terminal event, not the stream's `error` then `done`: a DCAF client stops reading a
turn at `error`, and a `done` after it would be taken for the end of its next turn.

A request is read and checked as over HTTP (`ChatService.prepare`: the size limit, strict
JSON, the schema, signed sessions, approvals and their ledger), one turn at a time per
connection. A browser page from another origin may not open the socket: a handshake whose
`Origin` names another host than `Host` is refused before it is accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from dcaf_cli.protocol import events
from dcaf_cli.protocol.events import encode
from dcaf_cli.server.intake import HTTPProblem
from dcaf_cli.server.service import ChatService
from dcaf_cli.server.stream import TurnEvents, done_line

POLICY_VIOLATION = 1008


async def chat_socket(service: ChatService, websocket: WebSocket) -> None:
    if not same_origin(websocket.headers.get("origin"), websocket.headers.get("host")):
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await _answer(service, websocket, _body(message))
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the client left; a turn it started finishes on its own


def same_origin(origin: str | None, host: str | None) -> bool:
    """No `Origin` (not a browser), or one naming this very host and port."""
    if origin is None:
        return True
    return bool(host) and urlsplit(origin).netloc.lower() == (host or "").lower()


def _body(message: Mapping[str, Any]) -> bytes:
    text = message.get("text")
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    data = message.get("bytes")
    return data if isinstance(data, bytes) else b""


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def _answer(service: ChatService, websocket: WebSocket, body: bytes) -> None:
    try:
        chat = await service.prepare(_once(body), str(len(body)))
    except HTTPProblem as problem:
        await _send(websocket, events.event("error", error=problem.message, code=problem.status))
        return
    turn = TurnEvents(service, chat)
    async for event in turn:
        if event["type"] != "error":  # the failed turn's one error comes last, below
            await _send(websocket, event)
    reply = turn.reply
    if reply is None:
        return
    if reply.error is not None:
        await _send(websocket, events.event("error", error=reply.error, message=reply.message))
    else:
        await websocket.send_text(done_line(reply).rstrip(b"\n").decode())


async def _send(websocket: WebSocket, event: dict[str, Any]) -> None:
    await websocket.send_text(encode(event).decode())
