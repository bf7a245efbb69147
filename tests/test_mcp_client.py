"""MCP servers' tools in an agent, against a real server written with the SDK (stdio and
streamable HTTP), through the SDK's own client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import invoke
from mcp_helpers import COMMAND, alive, http_server, pids, wait_until

from dcaf_cli import Agent, MCPTool, tool
from dcaf_cli.errors import MCPError, ToolArgumentError
from dcaf_cli.runtime.mcp import close_all


@tool
def clash(word: str) -> str:
    """The agent's own tool of this name."""
    return f"local clash: {word}"


@pytest.fixture
def pid_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "pids"
    folder.mkdir()
    yield folder
    close_all()
    wait_until(lambda: not any(alive(p) for p in pids(folder)), "the servers to stop")


def stdio_agent(pid_dir: Path, **options: Any) -> Agent:
    server = MCPTool(command=COMMAND, env={"MCP_PID_DIR": str(pid_dir)}, **options)
    return Agent(tools=[clash, server])


def by_name(agent: Agent) -> dict[str, Any]:
    return {t.name: t for t in agent.tools}


def test_the_servers_tools_join_the_agents_with_schemas_and_approvals(pid_dir: Path) -> None:
    agent = stdio_agent(pid_dir, auto_approve_tools=["fa*"])
    tools = by_name(agent)
    assert list(tools)[:3] == ["clash", "add", "note"]
    assert tools["add"].parameters["properties"]["a"]["type"] == "integer"
    assert tools["note"].parameters["properties"]["tone"]["enum"] == ["plain", "loud"]
    # read-only by the server's annotations, or matched by a pattern: no approval
    assert not tools["add"].requires_approval
    assert not tools["fail"].requires_approval
    assert tools["note"].requires_approval
    assert tools["crash"].requires_approval
    # the clash is renamed, and says whose tool it is
    renamed = tools["fake_tools_clash"]
    assert "tool 'clash' of MCP server 'fake tools'" in renamed.description
    assert renamed.invoke({"word": "hi"}) == "server clash: hi"
    assert tools["clash"].invoke({"word": "hi"}) == "local clash: hi"
    assert tools["add"].invoke({"a": 2, "b": 40}) == "42"


def test_include_exclude_and_prefix(pid_dir: Path) -> None:
    agent = stdio_agent(pid_dir, exclude_tools=["c*", "hang"], tool_name_prefix="fake")
    assert sorted(by_name(agent)) == ["clash", "fake_add", "fake_fail", "fake_note"]
    only = stdio_agent(pid_dir, include_tools=["add"])
    assert sorted(by_name(only)) == ["add", "clash"]


def test_arguments_are_checked_against_the_servers_schema_before_the_call(
    pid_dir: Path,
) -> None:
    tools = by_name(stdio_agent(pid_dir))
    with pytest.raises(ToolArgumentError, match="'shout' is not one of"):
        tools["note"].invoke({"text": "hi", "tone": "shout"})
    with pytest.raises(ToolArgumentError, match="missing required argument 'b'"):
        tools["add"].invoke({"a": 1})
    assert tools["note"].invoke({"text": "hi", "tone": "loud"}) == "noted: HI"


def test_a_crashing_server_fails_the_call_and_the_next_call_starts_it_again(
    pid_dir: Path,
) -> None:
    tools = by_name(stdio_agent(pid_dir))
    assert tools["add"].invoke({"a": 1, "b": 1}) == "2"
    [first] = pids(pid_dir)
    with pytest.raises(MCPError, match="failed during crash") as caught:
        tools["crash"].invoke({})
    assert "\n" not in str(caught.value)
    wait_until(lambda: not alive(first), "the crashed server to be gone")
    assert tools["add"].invoke({"a": 1, "b": 2}) == "3"
    assert len(pids(pid_dir)) == 2


def test_a_hanging_server_times_out_and_is_stopped(pid_dir: Path) -> None:
    tools = by_name(stdio_agent(pid_dir, call_timeout_seconds=1))
    with pytest.raises(MCPError, match=r"did not answer hang within 1 s; it was stopped"):
        tools["hang"].invoke({})
    [first] = pids(pid_dir)
    wait_until(lambda: not alive(first), "the hanging server to be stopped")
    assert tools["add"].invoke({"a": 2, "b": 2}) == "4"


def test_a_tool_error_of_the_server_is_that_calls_error(pid_dir: Path) -> None:
    tools = by_name(stdio_agent(pid_dir))
    with pytest.raises(MCPError, match=r"^fail \(MCP server .*\): "):
        tools["fail"].invoke({"reason": "nope"})
    assert tools["add"].invoke({"a": 0, "b": 0}) == "0"  # the same server goes on


def test_a_server_that_cannot_start_is_one_line() -> None:
    agent = Agent(tools=[MCPTool(command="/nonexistent/mcp-server --flag")])
    with pytest.raises(MCPError, match="failed to start"):
        _ = agent.tools


def test_servers_start_lazily_and_stop_with_the_agent(pid_dir: Path) -> None:
    agent = stdio_agent(pid_dir)
    assert pids(pid_dir) == []  # building the agent starts nothing
    _ = agent.tools
    [pid] = pids(pid_dir)
    by_name(agent)["add"].invoke({"a": 1, "b": 1})
    assert pids(pid_dir) == [pid]  # reused
    agent.close()
    wait_until(lambda: not alive(pid), "the server to stop")


def test_over_streamable_http_with_headers(pid_dir: Path) -> None:
    with http_server(pid_dir) as url:
        agent = Agent(tools=[MCPTool(url=url, headers={"X-Test": "1"})])
        tools = by_name(agent)
        assert "note" in tools
        assert tools["add"].invoke({"a": 20, "b": 22}) == "42"
        with pytest.raises(ToolArgumentError):
            tools["add"].invoke({"a": "x", "b": 1})
        agent.close()


def test_a_kill_9_of_dcaf_takes_its_stdio_servers_along(pid_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "holder.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            from dcaf_cli import Agent, MCPTool
            env = {{"MCP_PID_DIR": {str(pid_dir)!r}}}
            agent = Agent(tools=[MCPTool(command={COMMAND!r}, env=env)])
            print(len(agent.tools), flush=True)
            time.sleep(600)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert int(proc.stdout.readline()) > 3
    [server] = pids(pid_dir)
    assert alive(server)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    wait_until(lambda: not alive(server), "the orphaned server to die")


def test_dcaf_run_and_tools_with_mcp(
    pid_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with http_server(pid_dir) as url:
        listed = invoke(capsys, "tools", "notes", "--mcp", url)
        assert listed.code == 0, listed.err
        assert "note  asks for approval  from MCP server " + url in listed.out
        ran = invoke(capsys, "run", "notes", "--mcp", url, "-m", "/add a=2 b=3", "--json")
        assert ran.code == 0, ran.err
        assert '"output": "5"' in ran.out
        refused = invoke(capsys, "run", "notes", "--mcp", url, "-m", "/note text=hi", "--json")
        assert "noted" not in refused.out
        approved = invoke(
            capsys, "run", "notes", "--mcp", url, "-m", "/note text=hi", "--approve", "yes"
        )
        assert "noted: hi" in approved.out
        broken = invoke(capsys, "run", "notes", "--mcp", url, "-m", "/crash_me", "--json")
        assert broken.code != 0 or "no tool" in broken.out + broken.err
