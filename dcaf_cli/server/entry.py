"""Running the server: `serve()` for `dcaf serve`, `app_from_env()` for worker processes.

With one worker the app object is handed to uvicorn. With several, uvicorn needs an
import string, so the agent spec and settings travel in environment variables and each
worker builds its own app with `app_from_env` (uvicorn's factory mode)::

    DCAF_SERVE_AGENT=dcaf_cli.examples.shop uvicorn --factory \\
        dcaf_cli.server.entry:app_from_env --workers 4 \\
        --loop dcaf_cli.server.connections:SharedSocketLoop

Approval signatures must verify in whichever worker gets the decision: the key comes
from `DCAF_SESSION_SECRET` when set (any number of hosts), else `serve()` draws one
random key and hands it to all its workers in `DCAF_APPROVAL_KEY` (one host).

The ledger of used approvals (see `ledger`) must be one for all the workers too, and
for all the replicas behind a load balancer: `--ledger` (`DCAF_LEDGER`) names it:
`redis://HOST:PORT/DB` for many hosts, `sqlite:PATH` for the workers of one host, or
`memory` for one worker. When none is named and there are several workers, `serve()`
creates a SQLite one in a private temporary folder (mode 0700) and removes it when the
server stops; one worker keeps its ledger in memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from dcaf_cli import settings
from dcaf_cli.errors import UsageError
from dcaf_cli.runtime.agent import AgentLike
from dcaf_cli.runtime.compat import agent_notes
from dcaf_cli.runtime.loader import DEFAULT_AGENT, load_agent
from dcaf_cli.server.app import create_app
from dcaf_cli.server.connections import SHARED_SOCKET_LOOP, uvicorn_options, with_repeat_filter
from dcaf_cli.server.guard import AccessPolicy, hosts_for, is_loopback
from dcaf_cli.server.ledger import Ledger, MemoryLedger, SqliteLedger
from dcaf_cli.server.limits import DEFAULT_LIMITS, Limits
from dcaf_cli.server.startup import check_port, run_uvicorn
from dcaf_cli.session.text import exception_line

FACTORY = "dcaf_cli.server.entry:app_from_env"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    model: str | None = None
    limits: Limits = DEFAULT_LIMITS
    log_level: str = "info"
    ledger: str | None = None  # memory, sqlite:PATH, redis://HOST:PORT/DB (DCAF_LEDGER)
    # On SIGTERM: stop accepting, let in-flight turns finish for this long, then exit 0.
    shutdown_seconds: int = 30
    metrics: bool = False  # GET /metrics (prometheus-client)
    log_format: str = "text"  # text: uvicorn's access lines; json: one JSON line a request
    token: str | None = None
    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()


def build_agent(spec: str, model: str | None = None) -> AgentLike:
    """Load the agent, switch its model, and resolve the model now (a missing provider
    SDK is one line at startup, not an error on the first request)."""
    agent = load_agent(spec)
    if model:
        use_model: Callable[[str], None] | None = getattr(agent, "use_model", None)
        if use_model is None:
            raise UsageError(f"--model does not apply to {spec!r}: it is {agent.model_name}")
        use_model(model)
    resolve: Callable[[], object] | None = getattr(agent, "resolved_model", None)
    if resolve is not None:
        resolve()
    return agent


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_ledger(spec: str) -> Ledger:
    """The ledger `spec` names: `memory`, `sqlite:PATH` (or a bare path), `redis://...`."""
    if spec == "memory":
        return MemoryLedger()
    if spec.startswith(REDIS_SCHEMES):
        from dcaf_cli.server.redis_ledger import RedisLedger

        return RedisLedger(spec)
    path = spec.removeprefix("sqlite:")
    try:
        return SqliteLedger(path)
    except sqlite3.Error as exc:
        raise UsageError(f"ledger {spec!r}: cannot open the SQLite file: {exc}") from None


def ledger_from_env() -> Ledger:
    """The ledger `DCAF_LEDGER` (or `DCAF_APPROVAL_LEDGER`) names, else one in memory."""
    spec = settings.approval_ledger()
    return open_ledger(spec) if spec else MemoryLedger()


def check_ledger(spec: str, workers: int, warn: Callable[[str], None] | None) -> None:
    """Refuse what cannot work (`memory` for several workers, an unopenable file, a URL
    that is not one) at start; a Redis that does not answer yet is only a warning: the
    server starts, and `/ready` says 503 until it answers."""
    if spec == "memory" and workers > 1:
        raise UsageError(
            "--ledger memory cannot be shared by several workers",
            hint="leave --ledger out (the workers share a SQLite file), or use redis://",
        )
    ledger = open_ledger(spec)
    try:
        ping: Callable[[], object] | None = getattr(ledger, "ping", None)
        if ping is not None:
            ping()
    except Exception as exc:
        if warn is not None:
            warn(f"warning: the ledger does not answer yet ({exception_line(exc)}); "
                 "requests with approvals get 503 and /ready says 503 until it does")  # fmt: skip
    finally:
        close: Callable[[], object] | None = getattr(ledger, "close", None)
        if close is not None:
            close()


@contextlib.contextmanager
def shared_ledger(
    workers: int, given: str | None = None, warn: Callable[[str], None] | None = None
) -> Iterator[None]:
    """The ledger named for the workers (`DCAF_LEDGER`) while the block runs (see above)."""
    given = given or settings.approval_ledger()
    if given:
        check_ledger(given, workers, warn)  # checked once and now: not per worker
        with _environment(settings.LEDGER, given):
            yield
        return
    if workers == 1:
        yield
        return
    folder = tempfile.mkdtemp(prefix="dcaf-serve-")  # 0700: only this user opens it
    path = str(Path(folder) / "approvals.sqlite3")
    try:
        SqliteLedger(path).close()
        with _environment(settings.LEDGER, f"sqlite:{path}"):
            yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def app_from_env() -> FastAPI:
    """The app a worker process serves, built from the environment (see above)."""
    agent = build_agent(settings.serve_agent() or DEFAULT_AGENT, settings.serve_model())
    return app_with(agent, limits_from_env())


def limits_from_env() -> Limits:
    limits = Limits(**settings.serve_limits())  # type: ignore[arg-type]
    max_body = settings.serve_max_body()
    if max_body is not None:
        limits = replace(limits, body_bytes=max_body)
    uvicorn_options(limits)  # the header deadline of this process's connections
    return limits


def access_from_env() -> AccessPolicy:
    hosts = settings.serve_list(settings.SERVE_HOSTS)
    return AccessPolicy(
        hosts=None if "*" in hosts else frozenset(hosts) if hosts else AccessPolicy().hosts,
        origins=frozenset(settings.serve_list(settings.SERVE_ORIGINS)),
        token=settings.serve_token(),
    )


def access_for(options: ServeOptions) -> tuple[AccessPolicy, str | None]:
    """Who may call a server started with `options`, and the token to announce when one
    was made up: beyond loopback a token is required, so one is drawn if none was given."""
    token, drawn = options.token or settings.serve_token(), None
    if token is None and not is_loopback(options.host):
        token = drawn = secrets.token_urlsafe(24)
    hosts = hosts_for(options.host, options.allow_hosts)
    return AccessPolicy(hosts, frozenset(options.allow_origins), token), drawn


def _export(options: ServeOptions, access: AccessPolicy) -> None:
    """What the workers need to build the same app (see `app_from_env`)."""
    os.environ[settings.SERVE_LIMITS] = json.dumps(asdict(options.limits))
    hosts = "*" if access.hosts is None else ",".join(sorted(access.hosts))
    os.environ[settings.SERVE_HOSTS] = hosts
    os.environ[settings.SERVE_ORIGINS] = ",".join(sorted(access.origins))
    if access.token is not None:
        os.environ[settings.SERVE_TOKEN] = access.token
    if options.model:
        os.environ[settings.SERVE_MODEL] = options.model


@contextlib.contextmanager
def shared_metrics(options: ServeOptions) -> Iterator[None]:
    """With `--metrics` and several workers, the folder where they keep their counts
    (prometheus-client's multiprocess mode), made private and removed at the end."""
    if not options.metrics or options.workers == 1 or os.environ.get(MULTIPROC_DIR):
        yield
        return
    folder = tempfile.mkdtemp(prefix="dcaf-metrics-")
    try:
        with _environment(MULTIPROC_DIR, folder):
            yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve(spec: str, options: ServeOptions, announce: Callable[[str], None] | None = None) -> None:
    """Serve `spec` until interrupted (blocks); `announce` hears where, once it loaded."""
    import uvicorn

    if options.workers < 1:
        raise UsageError("--workers must be at least 1")
    agent = build_agent(spec, options.model)  # fail here, before binding the port
    options = replace(options, port=check_port(options.host, options.port))
    # What the workers build their app from (see above).
    if not settings.session_secrets() and not settings.approval_keys():
        os.environ[settings.APPROVAL_KEY] = secrets.token_hex(32)
    os.environ[settings.SERVE_AGENT] = spec
    access, drawn = access_for(options)
    _export(options, access)
    os.environ[settings.SERVE_METRICS] = "1" if options.metrics else ""
    os.environ[settings.SERVE_LOG_FORMAT] = options.log_format
    if options.metrics:
        from dcaf_cli.server.observe import Metrics

        Metrics()  # a missing prometheus-client is one line now, not in every worker
    run = {
        "host": options.host,
        "port": options.port,
        "timeout_graceful_shutdown": options.shutdown_seconds,
        "access_log": options.log_format == "text",
        "ws_max_size": options.limits.body_bytes,  # a WebSocket request is a body too
        **uvicorn_options(options.limits),
        # not log_level: it would bring back the start-up lines
        "log_config": with_repeat_filter(quiet_logging(options.log_level)),
    }
    with shared_ledger(options.workers, options.ledger, announce), shared_metrics(options):
        if announce is not None:
            for note in agent_notes(agent, spec):
                announce(f"note: {note}")
            _announce(announce, agent, options, drawn)
        if options.workers == 1:
            app = app_with(agent, options.limits, access)
            run_uvicorn(lambda: uvicorn.run(app, **run))
        else:
            run["loop"] = SHARED_SOCKET_LOOP  # see connections: a burst spread over workers
            run_uvicorn(lambda: uvicorn.run(FACTORY, factory=True, workers=options.workers, **run))


def _announce(
    announce: Callable[[str], None], agent: AgentLike, options: ServeOptions, drawn: str | None
) -> None:
    where = f"http://{options.host}:{options.port}"
    announce(f"serving {agent.name} ({agent.model_name}) at {where}/api/chat (Ctrl-C stops)")
    if drawn is not None:
        announce(
            f"clients must send Authorization: Bearer {drawn} (set {settings.SERVE_TOKEN} or "
            "--token to choose it)"
        )


def quiet_logging(level: str) -> dict[str, Any]:
    """uvicorn's logging, without its start-up chatter ("Started server process", a second
    Ctrl-C hint): dcaf announces the server itself. Requests are still logged at `level`."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = level.upper()
    return config


def app_with(
    agent: AgentLike, limits: Limits = DEFAULT_LIMITS, access: AccessPolicy | None = None
) -> FastAPI:
    log_json = settings.serve_log_format() == "json"
    metrics = None
    if settings.serve_metrics():
        from dcaf_cli.server.observe import Metrics

        metrics = Metrics()
    if log_json:
        from dcaf_cli.server.observe import access_logging

        access_logging(log_json)
    secrets_, keys = settings.session_secrets(), settings.approval_keys()
    previous: list[str | bytes] = [*secrets_[1:], *keys[1:]]
    return create_app(
        agent,
        limits=limits,
        access=access if access is not None else access_from_env(),
        secret=secrets_[0] if secrets_ else None,
        approval_key=keys[0] if keys else None,
        previous_keys=previous,
        ledger=ledger_from_env(),
        metrics=metrics,
        log_json=log_json,
    )
