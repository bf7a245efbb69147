"""The HelpDesk-protocol HTTP server: `create_app(agent)` is an ASGI app (FastAPI).

    GET  /health                  {"status": "ok", "agent": ..., "model": ..., "ledger": ...}
    GET  /ready                   200 when the approval ledger answers, else 503
    GET  /api/tools               {"tools": [{name, description, parameters, requires_approval}]}
    POST /api/chat                one assistant message (alias /api/sendMessage)
    POST /api/chat-stream         NDJSON events, `done` last (alias /api/sendMessageStream)
    WS   /api/chat-ws             a request per message, each answered by its events

The request is `{"messages": [...], ...}`; the session comes in the last user message's
`data.session` and goes back in the reply's `data.session`, beside `data.tool_calls`
(pending approvals, each signed: see `signing`) and `data.executed_tool_calls`. Every
other top-level field is echoed in `meta_data.request_context`. Refusals are 4xx with
`{"detail": "...", "error": "..."}` (FastAPI's shape, which DCAF's clients read, and
ours); a failing turn is a 200 whose `data.error` says why and whose session
is the one that came in. No session state is kept between requests, so the app scales
out as ordinary ASGI workers; the one thing remembered is which proposals were already
decided (`ledger`), so that an approval runs its tool once. Workers must share it (a
`SqliteLedger` on one host: `dcaf serve --workers N` does this).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from types import MappingProxyType
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from dcaf_cli.protocol.signing import DEFAULT_SESSION_TTL, DEFAULT_TTL, Signer
from dcaf_cli.runtime.agent import AgentLike
from dcaf_cli.server.asgi import ASGIApp, Receive, Scope, Send, refusal_body
from dcaf_cli.server.endpoint import ChatEndpoint
from dcaf_cli.server.guard import AccessPolicy, Guard
from dcaf_cli.server.intake import ChatInput, HTTPProblem
from dcaf_cli.server.ledger import Ledger, MemoryLedger, ledger_state
from dcaf_cli.server.limits import DEFAULT_LIMITS, Limits
from dcaf_cli.server.observe import CountingLedger, Metrics, Observer
from dcaf_cli.server.service import ChatService, Reply
from dcaf_cli.server.stream import stream_reply
from dcaf_cli.server.websocket import chat_socket

CHAT_PATHS = ("/api/chat", "/api/sendMessage")
STREAM_PATHS = ("/api/chat-stream", "/api/sendMessageStream")
NDJSON = "application/x-ndjson"


def create_app(
    agent: AgentLike,
    *,
    limits: Limits = DEFAULT_LIMITS,
    max_body_bytes: int | None = None,
    access: AccessPolicy | None = None,
    secret: str | None = None,
    approval_key: bytes | None = None,
    approval_ttl: float = DEFAULT_TTL,
    session_ttl: float = DEFAULT_SESSION_TTL,
    ledger: Ledger | None = None,
    metrics: Metrics | None = None,
    log_json: bool = False,
    previous_keys: Sequence[str | bytes] = (),
) -> FastAPI:
    """The app serving `agent`.

    `secret` (what `dcaf serve` reads from `DCAF_SESSION_SECRET`) signs proposals and
    sessions and makes the server refuse sessions it did not sign. Without it, proposals
    are signed with `approval_key`, or a random key per process: with several worker
    processes and no secret, give them all the same `approval_key`.

    `ledger` remembers the proposals already decided, so that replaying an approval does
    not run its tool twice; the default (`MemoryLedger`) serves one process. Several
    processes must share one: `SqliteLedger(path)` on one host, `RedisLedger(url)` on many.

    `previous_keys` (older secrets, or approval keys) still verify what they signed, so
    a key can be rotated with a rolling restart (see docs/deploy.md).

    `metrics` (see `observe`) adds `GET /metrics`; `log_json` writes a JSON access line
    per request.

    `limits` bound what one request may make the server do (`max_body_bytes` overrides
    its body size); `access` says who may call (see `guard`: by default only clients
    naming a loopback Host, with no foreign Origin and no token).
    """
    if max_body_bytes is not None:
        limits = replace(limits, body_bytes=max_body_bytes)
    signer = Signer.create(secret, approval_key, approval_ttl, session_ttl, previous_keys)
    if metrics is not None:
        ledger = CountingLedger(ledger if ledger is not None else MemoryLedger(), metrics)
    service = ChatService(agent, signer, limits, ledger)
    policy = access if access is not None else AccessPolicy()
    app = ChatApp(title=f"dcaf: {agent.name}", docs_url=None, redoc_url=None)
    _guard(app, policy)
    app.state.service = service

    async def health() -> dict[str, Any]:
        # Liveness: always 200 while the process serves; the ledger's state is reported.
        name, problem = await anyio.to_thread.run_sync(ledger_state, service.ledger)
        return {
            "status": "ok",
            "agent": agent.name,
            "model": agent.model_name,
            "signed_sessions": service.signer.signs_sessions,
            "ledger": {"store": name, "ok": problem is None, **_why(problem)},
        }

    async def ready() -> Response:
        # Readiness: a replica whose ledger does not answer cannot take approvals.
        name, problem = await anyio.to_thread.run_sync(ledger_state, service.ledger)
        body = {"status": "ready" if problem is None else "unavailable", "ledger": name}
        return JSONResponse(body | _why(problem), status_code=200 if problem is None else 503)

    async def tools() -> dict[str, Any]:
        # What a remote REPL completes and calls: the schemas the model is told.
        return {"tools": [t.listing() for t in agent.tools]}

    async def chat_stream(request: Request) -> Response:
        prepared = await _prepare(service, request)
        if isinstance(prepared, Response):
            return prepared
        lines = stream_reply(service, prepared)  # its slot covered reading and checking
        return StreamingResponse(lines, media_type=NDJSON)

    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/ready", ready, methods=["GET"])
    app.add_api_route("/api/tools", tools, methods=["GET"])
    app.add_chat_routes(CHAT_PATHS, ChatEndpoint(service))
    for path in STREAM_PATHS:
        app.add_api_route(path, chat_stream, methods=["POST"])
    app.add_api_websocket_route("/api/chat-ws", partial(chat_socket, service))
    app.add_exception_handler(StarletteHTTPException, _http_error)
    _observe(app, service, metrics, log_json=log_json)
    return app


def _observe(
    app: FastAPI, service: ChatService, metrics: Metrics | None, *, log_json: bool
) -> None:
    """`/metrics`, turn counts and the middleware, when asked for (else nothing runs)."""
    if metrics is not None:
        _count_turns(service, metrics)

        async def metrics_page() -> Response:
            body, content_type = metrics.render()
            return Response(body, media_type=content_type)

        app.add_api_route("/metrics", metrics_page, methods=["GET"])
    if metrics is not None or log_json:
        name = service.agent.name
        app.add_middleware(Observer, agent=name, metrics=metrics, log_json=log_json)


def _count_turns(service: ChatService, metrics: Metrics) -> None:
    """Every turn, streamed or not, ends in `service.answer`: count it there."""
    answer = service.answer

    async def counted(chat: ChatInput, on_event: Any = None) -> Reply:
        reply = await answer(chat, on_event)
        metrics.turn(reply.message)
        return reply

    service.answer = counted  # type: ignore[method-assign]


class ChatApp(FastAPI):
    """A FastAPI app whose chat requests skip FastAPI's per-request machinery.

    `POST /api/chat` and its alias are answered by a plain ASGI endpoint (see `endpoint`):
    the router reaches it directly, and `__call__` sends those requests straight to it
    through the app's own middleware (the guard first), with the scope the router would
    have given it. Their routes stay FastAPI routes, so the OpenAPI document lists them."""

    _chat_routes: Mapping[str, APIRoute] = MappingProxyType({})
    _chat_stack: ASGIApp | None = None

    def add_chat_routes(self, paths: Sequence[str], endpoint: ASGIApp) -> None:
        """`POST` on `paths`, documented by `chat` and answered by `endpoint`."""
        routes = {}
        for path in paths:
            self.add_api_route(path, chat, methods=["POST"])
            route = self.router.routes[-1]
            assert isinstance(route, APIRoute)
            route.app = endpoint
            routes[path] = route
        self._chat_routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._chat_routes.get(scope.get("path", ""))
        if route is None or scope["type"] != "http" or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        if self.root_path or scope.get("root_path"):
            await super().__call__(scope, receive, send)
            return
        stack = self._chat_stack
        if stack is None:  # by the first request, the middleware is all added
            stack = self._chat_stack = self._with_middleware(route.app)
        scope.update(app=self, route=route, endpoint=route.endpoint, path_params={})
        await stack(scope, receive, send)

    def _with_middleware(self, app: ASGIApp) -> ASGIApp:
        """`app` inside the middleware added with `add_middleware`, outermost last added."""
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


async def chat() -> None:
    """One assistant message: the body is `{"messages": [...]}`, the session in the last
    user message's `data.session`; the reply carries the new one in `data.session`."""


def _why(problem: str | None) -> dict[str, str]:
    return {} if problem is None else {"error": problem}


async def _prepare(
    service: ChatService, request: Request, *, hold: bool = False
) -> ChatInput | Response:
    """The checked request (with `hold`, holding one of the worker's slots: see
    `ChatService.prepare`), or the 4xx response refusing it."""
    try:
        length = request.headers.get("content-length")
        return await service.prepare(request.stream(), length, hold=hold)
    except HTTPProblem as problem:
        return refusal(problem.message, problem.status)
    except ClientDisconnect:
        return refusal("the client left before sending the whole body", 400)


def refusal(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """A 4xx in the protocol's error shape (see `asgi.refusal_body`)."""
    return Response(refusal_body(message), status, headers, media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (404, 405) in the protocol's error shape."""
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else "internal error"
    headers = getattr(exc, "headers", None)
    return refusal(f"{request.url.path}: {detail}", status, headers)


def _guard(app: FastAPI, policy: AccessPolicy) -> None:
    """Who may call (see `guard`), checked before any endpoint runs."""
    app.add_middleware(Guard, policy=policy)
    if policy.origins:  # answers the preflight of the origins allowed, and only theirs
        app.add_middleware(
            CORSMiddleware,
            allow_origins=sorted(policy.origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
        )
