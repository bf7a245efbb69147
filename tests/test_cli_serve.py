"""`dcaf serve`: its help, its errors, and a real multi-worker server."""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fakes.chat_client import chat, decision, isolate, reach_approval

from dcaf_cli.cli import run_cli
from dcaf_cli.errors import UsageError
from dcaf_cli.server.entry import app_from_env, build_agent


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for expected in ("/api/chat-stream", "--workers", "dcaf serve shop", "DCAF_SESSION_SECRET"):
        assert expected in out


def test_missing_server_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in ("fastapi", "uvicorn") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert run_cli(["serve", "shop"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "dcaf: error: dcaf serve needs FastAPI and uvicorn: pip install 'dcaf-cli[server]'\n"
    )


def test_unknown_agent_fails_before_binding(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["serve", "no_such_module_xyz", "--port", "1"]) == 2
    assert "no module named 'no_such_module_xyz'" in capsys.readouterr().err


def test_model_option_needs_an_agent_with_a_model() -> None:
    with pytest.raises(UsageError, match="--model does not apply"):
        build_agent("counter", "offline")


def test_workers_build_the_app_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCAF_SERVE_AGENT", "deploy")
    monkeypatch.setenv("DCAF_SERVE_MAX_BODY", "1234")
    monkeypatch.setenv("DCAF_APPROVAL_KEY", "ab" * 32)
    service = app_from_env().state.service
    assert service.agent.name == "deploy"
    assert service.max_body_bytes == 1234
    assert service.signer.approval_key == bytes.fromhex("ab" * 32)
    assert not service.signer.signs_sessions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_workers() -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "dcaf_cli", "serve", "deploy", "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dcaf serve exited"
        try:
            if httpx.get(f"{url}/health", trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("dcaf serve did not come up")


def test_approvals_verify_in_whichever_worker_answers(two_workers: str) -> None:
    # No keep-alive: every request is a new connection, which either worker may accept.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=two_workers, limits=limits, trust_env=False, timeout=10) as http:
        for _ in range(6):
            history, paused = reach_approval(http)
            reply = chat(http, decision(history, paused))
            assert reply["data"]["session"] == {}
            assert reply["data"]["executed_tool_calls"][0]["output"].startswith("✅ Deployed")
