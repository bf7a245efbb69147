"""What an operator sees of `dcaf serve`: Prometheus metrics (`--metrics`) and structured
access logs (`--log-format json`).

`Metrics` (needs `prometheus-client`, the `metrics` extra) counts requests by route and
status with a latency histogram, turns by outcome, tool calls by tool and outcome,
approvals claimed and refused (through the ledger: `CountingLedger`), and errors by kind.
With several worker processes it uses the client's multiprocess mode: `dcaf serve` gives
the workers a private folder (`PROMETHEUS_MULTIPROC_DIR`) and `/metrics` adds them up.

`Observer` is the ASGI middleware that times each request, gives it an id (the client's
`X-Request-ID` when it is a plain token, else a new one, echoed in the answer), counts it,
and writes the access line. A line holds the request's id, method, route, status,
duration and the agent: never a body, a session value, a header value or a query string.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from dcaf_cli.errors import UsageError
from dcaf_cli.server.asgi import ASGIApp, Message, Receive, Scope, Send
from dcaf_cli.server.ledger import Ledger

ACCESS_LOGGER = "dcaf.access"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ERROR_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "refused",
    404: "not_found",
    405: "method_not_allowed",
    409: "stale_session",
    413: "too_large",
    415: "not_json",
    421: "wrong_host",
    422: "invalid",
    429: "busy",
    503: "ledger_unavailable",
}


class Metrics:
    """The server's Prometheus metrics, in a registry of its own (or the workers' folder)."""

    def __init__(self) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            raise UsageError(
                "--metrics needs prometheus-client", hint="pip install 'dcaf-cli[metrics]'"
            ) from None
        self._prom = prom
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multiprocess mode the values live in the folder's files, not in a registry.
        self.registry = None if self.multiprocess else prom.CollectorRegistry()
        reg = self.registry
        self.requests = prom.Counter(
            "dcaf_http_requests", "HTTP requests", ["method", "route", "status"], registry=reg
        )
        self.latency = prom.Histogram(
            "dcaf_http_request_duration_seconds",
            "Time from the request to the end of its answer (streams included)",
            ["route"],
            registry=reg,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.turns = prom.Counter("dcaf_turns", "Turns, by outcome", ["outcome"], registry=reg)
        self.tool_calls = prom.Counter(
            "dcaf_tool_calls", "Tool calls run, by tool and outcome", ["tool", "outcome"],
            registry=reg,
        )  # fmt: skip
        self.approvals = prom.Counter(
            "dcaf_approvals", "Approval and signed-session claims on the ledger", ["result"],
            registry=reg,
        )  # fmt: skip
        self.errors = prom.Counter(
            "dcaf_errors", "Refused requests and failed turns, by kind", ["kind"], registry=reg
        )

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 400:
            self.errors.labels(ERROR_KINDS.get(status, f"http_{status}")).inc()

    def turn(self, message: Mapping[str, Any]) -> None:
        """Count a turn from the assistant message it produced."""
        data = message.get("data") or {}
        if data.get("error"):
            outcome = "error"
            self.errors.labels("turn_failed").inc()
        elif data.get("tool_calls"):
            outcome = "paused"
        else:
            outcome = "ok"
        self.turns.labels(outcome).inc()
        for call in data.get("executed_tool_calls") or []:
            name = str(call.get("name", "?"))
            self.tool_calls.labels(name, "error" if call.get("error") else "ok").inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text, and its content type."""
        prom = self._prom
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return prom.generate_latest(registry), prom.CONTENT_TYPE_LATEST
        assert self.registry is not None
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST


class CountingLedger:
    """A ledger that counts its claims: `claimed` when recorded, `refused` when not."""

    def __init__(self, inner: Ledger, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def claim(self, entries: Mapping[str, float]) -> list[str]:
        used = self.inner.claim(entries)
        self.metrics.approvals.labels("refused" if used else "claimed").inc()
        return used

    def __getattr__(self, name: str) -> Any:  # ping, describe, close, ... of the ledger
        return getattr(self.inner, name)


class Observer:
    """ASGI middleware: request ids, metrics and access lines for every HTTP request."""

    def __init__(
        self, app: ASGIApp, *, agent: str, metrics: Metrics | None, log_json: bool
    ) -> None:
        self.app = app
        self.agent = agent
        self.metrics = metrics
        self.log_json = log_json
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # what the client gets if the app fails before answering

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            self._record(scope, request_id, status, time.perf_counter() - start)

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route = _route(scope)
        if self.metrics is not None:
            self.metrics.request(scope.get("method", "?"), route, status, seconds)
        if self.log_json:
            line = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "request_id": request_id,
                "method": scope.get("method"),
                "path": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "agent": self.agent,
                "client": (scope.get("client") or ("?",))[0],
            }
            self.logger.info(json.dumps(line, ensure_ascii=True))


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if _REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def _route(scope: Scope) -> str:
    """The route's path, never the query string; unknown paths are one label (no
    unbounded label values from clients probing URLs)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(unknown)"


def access_logging(log_json: bool) -> None:
    """Send the JSON access lines to stderr, one object per line, nothing else on them."""
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if log_json and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
