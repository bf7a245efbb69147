"""`RemoteAgent`: a HelpDesk-protocol server, driven like any local agent.

It sends the conversation with the session in the last user message's `data.session`,
streams `/api/chat-stream` (falling back to DCAF's older `/api/sendMessageStream`, then to
the plain `/api/chat` and `/api/sendMessage`, as far as the server has them), turns the
stream into the runtime's events, and applies the session the server returns to the
caller's `Session`. Decisions go back as the server takes them: in `data.tool_calls` with
their signatures to a server that signs its proposals (ours), in DCAF's unified
`data.approvals` to one that proposed in that form. So `complete_turn`, the REPL, the renderer and
the session file work unchanged: approvals pause the turn, the decisions go back as the
next request, and the server runs (or refuses) the calls.

A server that returns no session (the reference server drops `data`) leaves the local
session as it was; the response says so in `data["session_missing"]` (and the REPL tells
the user once). A network error, a timeout, a 4xx/5xx or a reply that is not a HelpDesk
message is `AgentResponse.error`, one line, with the session untouched.

With `DCAF_SESSION_SECRET` on the server, the signature it returns with each session
(`data.session_signature`) is sent back with that session: remembered here, and kept in
the conversation's assistant messages so a new process can find it again.
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dcaf_cli.errors import UsageError
from dcaf_cli.protocol.approvals import unfold_decisions
from dcaf_cli.protocol.reader import WireError, sent_approvals
from dcaf_cli.protocol.signing import digest
from dcaf_cli.protocol.wire import WireMessage, parse_messages
from dcaf_cli.runtime.agent import Messages, SessionLike, session_for
from dcaf_cli.runtime.recorded import recorded
from dcaf_cli.runtime.remote_wire import RemoteError, StreamEvents, to_response
from dcaf_cli.runtime.results import AgentResponse, EventSink
from dcaf_cli.runtime.turn import TurnOptions
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import one_line, shorten
from dcaf_cli.settings import serve_token
from dcaf_cli.tools.tool import Tool

if TYPE_CHECKING:
    import httpx

_NOT_SENT = ("session", "session_signature")
STREAM_PATHS = ("/api/chat-stream", "/api/sendMessageStream")  # DCAF's names, newest first
CHAT_PATHS = ("/api/chat", "/api/sendMessage")


class RemoteAgent:
    """An agent behind a URL that speaks the HelpDesk protocol."""

    # A server runs a call exactly as it proposed it (approvals are signed), so a decision
    # may approve or reject, never change the arguments.
    accepts_edits = False

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 120.0,
        stream: bool = True,
        name: str = "remote",
        token: str | None = None,
    ) -> None:
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise UsageError(
                "talking to an agent server needs httpx", hint="pip install 'dcaf-cli[server]'"
            ) from None
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"bad server URL {url!r}: it must start with http:// or https://")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.name = name
        token = token or serve_token()  # the server's bearer token, if it has one
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._signatures: dict[str, str] = {}  # session digest -> the server's signature
        self._tools: list[Tool[..., Any]] | None = None
        self._stream_paths = list(STREAM_PATHS) if stream else []
        self._chat_paths = list(CHAT_PATHS)
        self._unified = False  # does the server take decisions in `data.approvals`?

    @property
    def tools(self) -> list[Tool[..., Any]]:
        """The server's tools (`GET /api/tools`), asked for once; none if it has no listing."""
        if self._tools is None:
            self._tools = self._fetch_tools()
        return self._tools

    def _fetch_tools(self) -> list[Tool[..., Any]]:
        import httpx

        from dcaf_cli.runtime.remote_tools import tools_from_listing

        try:
            answer = httpx.get(
                f"{self.url}/api/tools", timeout=5.0, verify=self._verify(), headers=self._headers
            )
            return tools_from_listing(answer.json()) if answer.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            return []  # no listing: what the user types goes to the server as it is

    @property
    def stream(self) -> bool:
        """Does it still try a stream endpoint (until the server turns out to have none)?"""
        return bool(self._stream_paths)

    @property
    def model_name(self) -> str:
        return f"remote:{self.url}"

    async def arun(
        self,
        messages: Messages,
        *,
        session: SessionLike = None,
        context: Mapping[str, Any] | None = None,
        on_event: EventSink | None = None,
        options: TurnOptions | None = None,
    ) -> AgentResponse:
        wire = parse_messages(messages)
        live = session_for(session, wire)
        body = self._body(wire, live.to_dict(), context or {})
        return await recorded(live, lambda: self._call(body, live, on_event))

    async def _call(
        self, body: dict[str, Any], live: Session, on_event: EventSink | None
    ) -> AgentResponse:
        try:
            reply = await self._exchange(body, on_event)
            response = to_response(reply, live)
        except (RemoteError, WireError) as exc:
            return AgentResponse("", live, error=str(exc))
        signed = any(p.signature for p in response.pending_tool_calls)
        self._unified = sent_approvals(reply) and not signed
        if response.error is None:
            self._apply(reply, response, live)
        return response

    # -- the request ---------------------------------------------------------------------

    def _body(
        self, wire: list[WireMessage], session: dict[str, Any], context: Mapping[str, Any]
    ) -> dict[str, Any]:
        plain = [_plain(m) for m in wire]
        last_user = max((i for i, m in enumerate(plain) if m["role"] == "user"), default=None)
        if last_user is None:
            raise UsageError("the conversation has no user message to send")
        if self._unified and plain[last_user].get("data", {}).get("tool_calls"):
            plain[last_user] = unfold_decisions(plain[last_user])
        data = plain[last_user].setdefault("data", {})
        data["session"] = session
        known = self._signatures.get(digest(session)) if self._signatures else None
        signature = known or _last_signature(wire)
        if signature:
            data["session_signature"] = signature
        return {**context, "messages": plain}

    async def _exchange(self, body: dict[str, Any], on_event: EventSink | None) -> Any:
        import httpx

        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, verify=self._verify(), headers=self._headers
            ) as client:
                while self._stream_paths:
                    reply = await self._streamed(client, body, on_event)
                    if reply is not None:
                        return reply
                    self._stream_paths.pop(0)  # not there: the next name, from now on
                while True:
                    found, reply = await self._plain_request(client, body)
                    if found:
                        return reply
                    self._chat_paths.pop(0)
        except httpx.TimeoutException:
            raise RemoteError(f"{self.url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            reason = one_line(str(exc)) or type(exc).__name__
            raise RemoteError(f"cannot reach {self.url}: {reason}") from None

    def _verify(self) -> ssl.SSLContext | bool:
        # Building httpx's default context costs ~0.1-0.5 s; build it once per process,
        # and not at all for plain http.
        return _ssl_context() if self.url.startswith("https:") else False

    async def _plain_request(
        self, client: httpx.AsyncClient, body: dict[str, Any]
    ) -> tuple[bool, Any]:
        """(False, None) when the server has no such endpoint and another name is left."""
        response = await client.post(f"{self.url}{self._chat_paths[0]}", json=body)
        if response.status_code in (404, 405) and len(self._chat_paths) > 1:
            return False, None
        if response.status_code >= 400:
            raise RemoteError(_status_problem(response.status_code, response.text))
        try:
            return True, response.json()
        except ValueError:
            raise RemoteError(f"{self.url} answered with something that is not JSON") from None

    async def _streamed(
        self, client: httpx.AsyncClient, body: dict[str, Any], on_event: EventSink | None
    ) -> dict[str, Any] | None:
        path = self._stream_paths[0]
        async with client.stream("POST", f"{self.url}{path}", json=body) as response:
            if response.status_code in (404, 405):
                return None
            if response.status_code >= 400:
                text = (await response.aread()).decode(errors="replace")
                raise RemoteError(_status_problem(response.status_code, text))
            reader = StreamEvents(on_event)
            # Split on b"\n" only: `aiter_lines` also splits on U+2028 and friends, which
            # a server may leave raw inside JSON strings.
            pending = b""
            async for chunk in response.aiter_bytes():
                *lines, pending = (pending + chunk).split(b"\n")
                for raw in lines:
                    reader.feed(raw.decode(errors="replace"))
            reader.feed(pending.decode(errors="replace"))
            return reader.reader.message()

    # -- the reply -----------------------------------------------------------------------

    def _apply(self, reply: Any, response: AgentResponse, live: Session) -> None:
        data = reply.get("data") if isinstance(reply, dict) else None
        session = data.get("session") if isinstance(data, dict) else None
        if not isinstance(session, dict):
            response.data["session_missing"] = True  # the UI says so, once per conversation
            return
        try:
            live.replace_all(session)  # all or nothing
        except (TypeError, ValueError) as exc:
            response.error = f"the server returned a session that is not JSON data: {exc}"
            return
        signature = data.get("session_signature") if isinstance(data, dict) else None
        if isinstance(signature, str):
            self._signatures = {digest(session): signature}


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


def _plain(message: WireMessage) -> dict[str, Any]:
    """A message as sent: no stale sessions, no empty lists."""
    out = message.model_dump(mode="json", exclude_none=True)
    data = {
        k: v for k, v in out.pop("data", {}).items() if k not in _NOT_SENT and v not in ([], {})
    }
    if data:
        out["data"] = data
    return out


def _last_signature(wire: list[WireMessage]) -> str | None:
    """The session signature the server last gave, as kept in the conversation."""
    for message in reversed(wire):
        if message.role == "assistant":
            value = (message.data.model_extra or {}).get("session_signature")
            return value if isinstance(value, str) else None
    return None


def _status_problem(status: int, text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    detail = body.get("error") or body.get("detail") if isinstance(body, dict) else None
    shown = detail if isinstance(detail, str) else shorten(text, 200)
    return f"the server answered {status}: {shown or '(no details)'}"
