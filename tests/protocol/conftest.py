"""`dcaf serve` in subprocesses on free loopback ports, as a DCAF client meets it.

`servers` starts, once for the suite, the deploy example (an agent with tools, one of
which needs approval), a custom agent function, and an agent that answers with its
context; each is a real `dcaf serve` process, reached over HTTP and WebSocket.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakes.serving import free_port, stop, wait_until_up

HERE = Path(__file__).parent
DCAF = Path(sys.executable).parent / "dcaf"
AGENTS = {
    "deploy": "deploy",
    "function": str(HERE / "agents" / "function_agent.py"),
    "context": str(HERE / "agents" / "context_agent.py"),
}
STARTUP_DEADLINE = 60.0  # a loaded machine starts Python slowly; polling, not sleeping


def _clean_env(home: Path) -> dict[str, str]:
    dropped = ("DCAF_SESSION_SECRET", "DCAF_APPROVAL_KEY", "DCAF_APPROVAL_LEDGER", "DCAF_MODEL")
    env = {k: v for k, v in os.environ.items() if k not in dropped and "PROXY" not in k.upper()}
    env.update(HOME=str(home), DCAF_HOME=str(home / "dcaf"), NO_PROXY="127.0.0.1")
    return env


@contextlib.contextmanager
def dcaf_serve(spec: str, home: Path) -> Iterator[str]:
    """`dcaf serve SPEC` on a free port; its base URL once `/health` answers."""
    port = free_port()
    process = subprocess.Popen(
        [str(DCAF), "serve", spec, "--port", str(port)],
        env=_clean_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, seconds=STARTUP_DEADLINE)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("serve-home")
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(dcaf_serve(spec, home)) for name, spec in AGENTS.items()}


@pytest.fixture
def http(servers: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(httpx.Client(base_url=url, timeout=30, trust_env=False))
            for name, url in servers.items()
        }
