"""`POST /api/chat` (and its alias) as a plain ASGI app: the request's bytes in, the
reply's bytes out, nothing between them but the service.

FastAPI's per-request machinery (routing, dependency solving, its Request and Response
objects, its exception middleware) costs as much as a small turn itself, and this
endpoint uses none of it: the body is a JSON document the service parses and checks
itself (see `intake`), and the reply is bytes it already encoded. `ChatApp` sends these
two paths here, through the same middleware (the guard first) as every other path; every
other request, and the OpenAPI document that lists these paths, stay FastAPI's. A bug
that raises here is answered by the ASGI server (a plain 500, logged), as FastAPI's own
error middleware would answer it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dcaf_cli.server.asgi import Receive, Scope, Send, header, refusal_body, send_json
from dcaf_cli.server.intake import HTTPProblem
from dcaf_cli.server.service import ChatService


class ChatEndpoint:
    """One chat request: checked, answered by the agent, or refused with a 4xx."""

    def __init__(self, service: ChatService) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = self.service
        try:
            chat = await service.prepare(
                body_chunks(receive), header(scope, b"content-length"), hold=True
            )
        except HTTPProblem as problem:
            await send_json(send, problem.status, refusal_body(problem.message))
            return
        try:
            reply = await service.answer(chat)
        finally:
            service.slots.release()
        await send_json(send, 200, reply.body)


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The request body's chunks as they arrive; 400 if the client leaves first."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPProblem(400, "the client left before sending the whole body")
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
