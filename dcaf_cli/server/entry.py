"""Running the server: `serve()` for `dcaf serve`, `app_from_env()` for worker processes.

With one worker the app object is handed to uvicorn. With several, uvicorn needs an
import string, so the agent spec and settings travel in environment variables and each
worker builds its own app with `app_from_env` (uvicorn's factory mode)::

    DCAF_SERVE_AGENT=dcaf_cli.examples.shop uvicorn --factory \\
        dcaf_cli.server.entry:app_from_env --workers 4

Approval signatures must verify in whichever worker gets the decision: the key comes
from `DCAF_SESSION_SECRET` when set (any number of hosts), else `serve()` draws one
random key and hands it to all its workers in `DCAF_APPROVAL_KEY` (one host).

The ledger of used approvals (see `ledger`) must be one for all the workers too:
`DCAF_APPROVAL_LEDGER` names a SQLite file they all open. When it is not set and there
are several workers, `serve()` creates one in a private temporary folder (mode 0700) and
removes it when the server stops; one worker keeps its ledger in memory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from dcaf_cli import settings
from dcaf_cli.errors import UsageError
from dcaf_cli.runtime.agent import AgentLike
from dcaf_cli.runtime.compat import agent_notes
from dcaf_cli.runtime.loader import DEFAULT_AGENT, load_agent
from dcaf_cli.server.app import create_app
from dcaf_cli.server.intake import DEFAULT_MAX_BODY
from dcaf_cli.server.ledger import Ledger, MemoryLedger, SqliteLedger
from dcaf_cli.server.startup import check_port, run_uvicorn

FACTORY = "dcaf_cli.server.entry:app_from_env"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    model: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    log_level: str = "info"


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


def open_ledger(path: str) -> SqliteLedger:
    try:
        return SqliteLedger(path)
    except sqlite3.Error as exc:
        raise UsageError(
            f"{settings.APPROVAL_LEDGER}={path!r}: cannot open the approval ledger: {exc}"
        ) from None


def ledger_from_env() -> Ledger:
    """The SQLite ledger `DCAF_APPROVAL_LEDGER` names, else one in memory."""
    path = settings.approval_ledger()
    return open_ledger(path) if path else MemoryLedger()


@contextlib.contextmanager
def shared_ledger(workers: int) -> Iterator[None]:
    """`DCAF_APPROVAL_LEDGER` set for the workers while the block runs (see above)."""
    given = settings.approval_ledger()
    if given or workers == 1:
        if given:
            open_ledger(given).close()  # created, or refused, once and now: not per worker
        yield
        return
    folder = tempfile.mkdtemp(prefix="dcaf-serve-")  # 0700: only this user opens it
    path = str(Path(folder) / "approvals.sqlite3")
    try:
        open_ledger(path).close()
        os.environ[settings.APPROVAL_LEDGER] = path
        yield
    finally:
        os.environ.pop(settings.APPROVAL_LEDGER, None)
        shutil.rmtree(folder, ignore_errors=True)


def app_from_env() -> FastAPI:
    """The app a worker process serves, built from the environment (see above)."""
    agent = build_agent(settings.serve_agent() or DEFAULT_AGENT, settings.serve_model())
    return app_with(agent, settings.serve_max_body() or DEFAULT_MAX_BODY)


def serve(spec: str, options: ServeOptions, announce: Callable[[str], None] | None = None) -> None:
    """Serve `spec` until interrupted (blocks); `announce` hears where, once it loaded."""
    import uvicorn

    if options.workers < 1:
        raise UsageError("--workers must be at least 1")
    agent = build_agent(spec, options.model)  # fail here, before binding the port
    check_port(options.host, options.port)
    # What the workers build their app from (see above).
    if not settings.session_secret() and not settings.approval_key():
        os.environ[settings.APPROVAL_KEY] = secrets.token_hex(32)
    os.environ[settings.SERVE_AGENT] = spec
    os.environ[settings.SERVE_MAX_BODY] = str(options.max_body_bytes)
    if options.model:
        os.environ[settings.SERVE_MODEL] = options.model
    host, port, level, workers = options.host, options.port, options.log_level, options.workers
    with shared_ledger(workers):
        if announce is not None:
            for note in agent_notes(agent, spec):
                announce(f"note: {note}")
            where = f"http://{host}:{port}"
            announce(
                f"serving {agent.name} ({agent.model_name}) at {where}/api/chat (Ctrl-C stops)"
            )
        if workers == 1:
            app = app_with(agent, options.max_body_bytes)
            run_uvicorn(lambda: uvicorn.run(app, host=host, port=port, log_level=level))
        else:
            run_uvicorn(
                lambda: uvicorn.run(
                    FACTORY, factory=True, workers=workers, host=host, port=port, log_level=level
                )
            )


def app_with(agent: AgentLike, max_body_bytes: int) -> FastAPI:
    return create_app(
        agent,
        max_body_bytes=max_body_bytes,
        secret=settings.session_secret(),
        approval_key=settings.approval_key(),
        ledger=ledger_from_env(),
    )
