"""Every provider's credentials are checked the same way, before the first turn: one line,
exit 2, with advice that fits where the user is (the command line, or the REPL)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run_dcaf
from repl_helpers import conversation_for, run_repl

from dcaf_cli.errors import ExitStatus


@pytest.fixture
def dcaf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(*args: str | Path) -> Any:
        return run_dcaf(capsys, monkeypatch, *args)

    return run


@pytest.mark.parametrize(
    ("model", "line"),
    [
        ("openai:gpt-4o-mini", "openai: no API key — set OPENAI_API_KEY or pass --api-key"),
        ("anthropic:claude-x", "anthropic: no API key — set ANTHROPIC_API_KEY or pass --api-key"),
        ("bedrock:some.model", "bedrock: no AWS credentials — set AWS_PROFILE or"),
    ],
)
def test_missing_credentials_stop_before_the_first_turn(
    dcaf: Any, tmp_path: Path, model: str, line: str
) -> None:
    path = tmp_path / "s.json"
    r = dcaf("run", "shop", "-s", path, "--model", model, "-m", "add 2 widgets")
    assert r.status == ExitStatus.BAD_INPUT
    assert r.err.startswith(f"dcaf: error: {line}")
    assert r.err.count("\n") == 1
    assert r.out == ""
    assert not path.exists()


def test_bedrock_without_a_region_is_one_line(
    dcaf: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    r = dcaf("run", "shop", "--model", "bedrock:some.model", "-m", "hi")
    assert r.status == ExitStatus.BAD_INPUT
    assert r.err == "dcaf: error: bedrock: no AWS region — set AWS_REGION or pass --region\n"


def test_in_the_repl_the_advice_fits_the_repl(tmp_path: Path) -> None:
    conversation = conversation_for("shop", tmp_path / "s.json")
    try:
        run = run_repl(conversation, ["/model anthropic:claude-x", "/model"])
    finally:
        conversation.close()
    out = " ".join(run.output.split())
    assert (
        "error: anthropic: no API key — set ANTHROPIC_API_KEY and start dcaf again (or start "
        "it with --api-key); the model was not changed"
    ) in out
    assert "pass --api-key" not in out
    assert "model: offline" in out


def test_switching_to_ollama_with_no_server_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    conversation = conversation_for("shop", tmp_path / "s.json")
    try:
        run = run_repl(conversation, ["/model ollama:llama3.2", "/model"])
    finally:
        conversation.close()
    out = " ".join(run.output.split())
    assert f"error: ollama: cannot connect to http://127.0.0.1:{port}/v1" in out
    assert "is Ollama running?" in out
    assert "model: offline" in out
