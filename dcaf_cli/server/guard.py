"""Who may call the server: checks on every request, before any endpoint sees it.

`Guard` is plain ASGI middleware around the whole app, so an endpoint added later (HTTP
or WebSocket) gets the same checks without asking for them. In order:

1. **Host.** The `Host` header must name the server (`AccessPolicy.hosts`): a page on
   `evil.example` whose name is rebound to 127.0.0.1 sends `Host: evil.example`, so DNS
   rebinding cannot reach a loopback server. 421 otherwise.
2. **Origin.** A browser names the page that sent a request in `Origin`; a request from
   another origin than the server's own is refused (403) unless `--allow-origin` lists
   it. Clients that are not browsers send no Origin and are not affected.
3. **Content type.** A request with a body must say `Content-Type: application/json`
   (415): a page can send `text/plain` or a form to any server without asking, but
   `application/json` across origins needs a CORS preflight, which is not granted.
4. **Token.** With a token (`--token`, `DCAF_SERVE_TOKEN`; on by default when binding
   beyond loopback), every request but `GET /health` and `/ready` must carry
   `Authorization: Bearer TOKEN` (401).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from dcaf_cli.server.asgi import ASGIApp, Receive, Scope, Send, refusal_body, send_json

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
OPEN_PATHS = frozenset({"/health", "/ready"})  # load balancers probe them without credentials
WS_POLICY_VIOLATION = 1008


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hosts_for(bind: str, allowed: Iterable[str] = ()) -> frozenset[str] | None:
    """The Host names a server bound to `bind` answers: `allowed` when given; the
    loopback names on loopback; any (None) on a wildcard address; else `bind` itself."""
    extra = frozenset(h.lower() for h in allowed)
    if extra:
        return extra if "*" not in extra else None
    if is_loopback(bind):
        return LOOPBACK_NAMES
    if bind in ("0.0.0.0", "::", ""):
        return None
    return frozenset({bind.lower().strip("[]")})


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    hosts: frozenset[str] | None = LOOPBACK_NAMES  # None: any Host
    origins: frozenset[str] = frozenset()  # besides the server's own; "*" for any
    token: str | None = None

    def problem(self, scope: Scope) -> tuple[int, str] | None:
        """(status, why) when the request must be refused, else None."""
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.hosts is not None and _hostname(host) not in self.hosts:
            return 421, (
                f"this server does not answer for Host {host[:100]!r}; "
                "start it with --allow-host to add the name"
            )
        origin = headers.get("origin")
        if origin is not None and not self._origin_allowed(origin, host):
            return 403, (
                f"requests from the web page at {origin[:100]!r} are refused; "
                "start the server with --allow-origin to allow it"
            )
        if scope["type"] == "http" and _has_body(scope, headers):
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                return 415, (
                    f"send the body as Content-Type: application/json, not {kind or 'none'!r}"
                )
        if self._needs_token(scope) and not _bearer_matches(
            headers.get("authorization", ""), self.token or ""
        ):
            return 401, (
                "this server needs its token: send Authorization: Bearer TOKEN "
                "(dcaf run --url takes --token, or DCAF_SERVE_TOKEN)"
            )
        return None

    def _needs_token(self, scope: Scope) -> bool:
        return self.token is not None and scope.get("path") not in OPEN_PATHS

    def _origin_allowed(self, origin: str, host: str) -> bool:
        if "*" in self.origins or origin in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


class Guard:
    """ASGI middleware applying an `AccessPolicy` to every HTTP and WebSocket request."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.policy.problem(scope)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WS_POLICY_VIOLATION})
        else:
            await _refuse(send, *refused)


async def _refuse(send: Send, status: int, message: str) -> None:
    headers = [(b"www-authenticate", b"Bearer")] if status == 401 else []
    await send_json(send, status, refusal_body(message), headers)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _hostname(host: str) -> str:
    """`example.com:8000` -> `example.com`; `[::1]:8000` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _has_body(scope: Scope, headers: dict[str, str]) -> bool:
    if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return False
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
