"""`dcaf mcp`: an agent's tools served over MCP, driven by the SDK's own client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from cli_helpers import invoke
from fakes.serving import free_port, stop
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_helpers import listening, wait_until


def command(file: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dcaf_cli", "mcp", "deploy", "--session", str(file), *extra]


async def _over_stdio(file: Path, *extra: str) -> dict[str, Any]:
    argv = command(file, *extra)
    params = StdioServerParameters(command=argv[0], args=argv[1:])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        return await _use(client)


async def _use(client: ClientSession) -> dict[str, Any]:
    listed = await client.list_tools()
    started = await client.call_tool("start_deployment", {"environment": "staging"})
    bad = await client.call_tool("start_deployment", {"environment": "moon"})
    executed = await client.call_tool("execute_deployment", {})
    return {
        "tools": {t.name: t for t in listed.tools},
        "started": started,
        "bad": bad,
        "executed": executed,
    }


def text(result: Any) -> str:
    return "".join(block.text for block in result.content)


def test_stdio_calls_change_the_session_file_and_the_log_shows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "deploy.json"
    seen = anyio.run(_over_stdio, file)
    schema = seen["tools"]["start_deployment"].input_schema
    assert schema["properties"]["environment"]["enum"] == ["staging", "production"]
    assert not seen["started"].is_error
    assert seen["bad"].is_error
    assert "environment" in text(seen["bad"])
    # a tool that asks for approval is refused, and the result says why
    assert seen["executed"].is_error
    assert "asks for approval" in text(seen["executed"])
    assert "--approve yes" in text(seen["executed"])
    doc = json.loads(file.read_text())
    assert doc["session"]  # the started deployment is in the file
    assert [t["tool_calls"][0]["name"] for t in doc["turns"]] == [
        "start_deployment",
        "start_deployment",
    ]
    log = invoke(capsys, "session", "log", str(file))
    assert log.code == 0, log.err
    assert "start_deployment" in log.out
    undo = invoke(capsys, "session", "undo", str(file))
    assert undo.code == 0, undo.err


def test_approve_yes_runs_tools_that_ask(tmp_path: Path) -> None:
    file = tmp_path / "deploy.json"
    seen = anyio.run(_over_stdio, file, "--approve", "yes")
    assert not seen["executed"].is_error, text(seen["executed"])


def test_over_http_with_a_second_writer_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "deploy.json"
    port = free_port()
    proc = subprocess.Popen(
        command(file, "--port", str(port)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_until(lambda: listening(port) or proc.poll() is not None, "dcaf mcp to listen")

        async def over_http() -> dict[str, Any]:
            url = f"http://127.0.0.1:{port}/mcp"
            async with (
                streamable_http_client(url) as (read, write),
                ClientSession(read, write) as client,
            ):
                await client.initialize()
                return await _use(client)

        seen = anyio.run(over_http)
        assert not seen["started"].is_error
        second = invoke(capsys, "run", "deploy", "--session", str(file), "-m", "/add_service a 1")
        assert second.code == 3, second.err
        assert len(json.loads(file.read_text())["turns"]) == 2
    finally:
        stop(proc)


def test_over_http_port_0_listens_on_a_free_port_and_says_which(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        command(tmp_path / "deploy.json", "--port", "0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert line.startswith("dcaf mcp: serving deploy at http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
        assert port != 0
        wait_until(lambda: listening(port) or proc.poll() is not None, "dcaf mcp to listen")
        assert proc.poll() is None
    finally:
        stop(proc)


def test_over_http_a_port_in_use_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(capsys, "mcp", "deploy", "--session", str(tmp_path / "d.json"),
                        "--port", str(port))  # fmt: skip
    assert result.code == 2
    assert result.err.strip() == (
        f"dcaf: error: port {port} on 127.0.0.1 is in use; choose another with --port"
    )
