"""`dcaf serve`: expose an agent over the HelpDesk protocol (HTTP)."""

import importlib.util
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import typer

from dcaf_cli.errors import UsageError
from dcaf_cli.server.limits import DEFAULT_LIMITS
from dcaf_cli.settings import SERVE_TOKEN

EXAMPLES = (
    "Examples:\n\n"
    "  dcaf serve shop                                   # http://127.0.0.1:8000\n\n"
    "  dcaf serve agents/deploy.py --port 9000 --model openai:gpt-4o-mini\n\n"
    "  DCAF_SESSION_SECRET=... dcaf serve shop --host 0.0.0.0 --workers 4\n\n"
    "  dcaf serve shop --workers 2 --ledger redis://db:6379/0   # replicas share it\n\n"
    '  curl -s localhost:8000/api/chat --json \'{"messages": [{"role": "user", '
    '"content": "add 2 widgets"}]}\'\n\n'
    "  dcaf run --url http://127.0.0.1:8000 --session cart.json"
)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add `dcaf serve` to `app`."""
    app.command(epilog=EXAMPLES)(serve)


def serve(  # noqa: PLR0917  (Typer reads the parameters)
    agent: Annotated[
        str,
        typer.Argument(
            help="The agent: a file (agents/shop.py[:name]), a module (pkg.mod[:name]) or a "
            "built-in (notes, shop, deploy, counter).",
        ),
    ] = "notes",
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind; 0.0.0.0 for every interface.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to listen on (0: a free one, shown at start).")
    ] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Worker processes. The server keeps no session state, so any worker (or "
            "host, with DCAF_SESSION_SECRET set) can answer any request. The workers share "
            "one ledger of used approvals: a SQLite file in a private temporary folder, or "
            "the one --ledger names.",
        ),
    ] = 1,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="offline, script:FILE, openai:MODEL, ollama:MODEL, anthropic:MODEL, "
            "bedrock:MODEL_ID. Default: the agent's own, else offline. Keys and URLs come from "
            "the provider's environment variables (OPENAI_API_KEY, ...).",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Require Authorization: Bearer TOKEN on every request but GET /health "
            f"(or set {SERVE_TOKEN}). Binding beyond loopback without one draws a token "
            "and prints it.",
            show_default=False,
        ),
    ] = None,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-origin",
            help="A web page origin (https://app.example) whose browser requests are "
            "allowed; repeat for more, '*' for any. Others are refused (403).",
            show_default=False,
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="A Host name to answer besides the bound address (against DNS "
            "rebinding, others get 421); repeat for more, '*' for any.",
            show_default=False,
        ),
    ] = None,
    max_body: Annotated[
        int,
        typer.Option("--max-body", min=1, help="Largest request body accepted, in bytes (413)."),
    ] = DEFAULT_LIMITS.body_bytes,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="Where used approvals are recorded, shared by every worker and replica: "
            "redis://HOST:PORT/DB (many hosts; pip install 'dcaf-cli[redis]'), sqlite:PATH "
            "(one host), or memory (one worker). Default: $DCAF_LEDGER, else memory for one "
            "worker and a private SQLite file for several.",
            show_default=False,
        ),
    ] = None,
    metrics: Annotated[
        bool,
        typer.Option(
            "--metrics",
            help="Serve GET /metrics in Prometheus text format: requests, latency, turns, tool "
            "calls, approvals, errors (pip install 'dcaf-cli[metrics]').",
        ),
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            help="Access lines: text (uvicorn's) or json (one object a request: id, method, "
            "path, status, duration, agent; never a session value or a secret).",
        ),
    ] = LogFormat.text,
    max_values: Annotated[
        int,
        typer.Option("--max-values", min=1, help="Most JSON values in a request body (400)."),
    ] = DEFAULT_LIMITS.values,
    max_depth: Annotated[
        int,
        typer.Option("--max-depth", min=1, help="Deepest nesting of a request body (400)."),
    ] = DEFAULT_LIMITS.depth,
    max_text: Annotated[
        int,
        typer.Option("--max-text", min=1, help="Longest message content, in characters (422)."),
    ] = DEFAULT_LIMITS.text_chars,
) -> None:
    """Serve AGENT over HTTP: GET /health, POST /api/chat, POST /api/chat-stream (NDJSON).

    The session travels in each request and comes back in the reply's data.session.

    Calls needing approval go out signed; only a call this server proposed can be approved,
    and each approval runs its call once (a replay is refused with 403).

    With DCAF_SESSION_SECRET set, sessions are signed too: edited, expired or already
    used ones are refused.

    Only clients naming the bound host, sending application/json and (from a browser)
    coming from an allowed origin are served. See docs/protocol.md, "Security".
    """
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        raise UsageError("dcaf serve needs FastAPI and uvicorn: pip install 'dcaf-cli[server]'")
    from dcaf_cli.server.entry import ServeOptions
    from dcaf_cli.server.entry import serve as run_server

    limits = replace(
        DEFAULT_LIMITS, body_bytes=max_body, values=max_values, depth=max_depth,
        text_chars=max_text,
    )  # fmt: skip
    options = ServeOptions(
        host, port, workers, model, limits, token=token,
        allow_origins=tuple(allow_origin or ()), allow_hosts=tuple(allow_host or ()),
        ledger=ledger,
        metrics=metrics, log_format=log_format.value,
    )  # fmt: skip
    run_server(agent, options, announce=lambda line: typer.echo(f"dcaf: {line}", err=True))
