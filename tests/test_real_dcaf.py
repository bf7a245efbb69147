"""With DCAF importable, its own Agent and Tool objects load: tools, approval flags,
prompt, model and interceptors. The `dcaf` here is a small stand-in package
(tests/fakes/real_dcaf) shaped like DCAF's public Agent, Tool, tool and serve; its
`serve` exits the process, so loading a file must never call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import invoke
from fakes.serving import stop

from dcaf_cli.runtime.compat import install, is_stand_in
from dcaf_cli.runtime.compat.agent import DcafAgent
from dcaf_cli.runtime.loader import load_agent

REAL = Path(__file__).parent / "fakes" / "real_dcaf"

AGENT_FILE = """
from dcaf.core import Agent, InterceptorError, Session, serve
from dcaf.tools import tool


@tool(description="Get current weather", requires_approval=False)
def get_weather(city: str, platform_context: dict) -> str:
    return f"Weather in {city} for {platform_context.get('tenant_name', 'nobody')}: Sunny"


@tool(description="Delete a pod")
def delete_pod(name: str, session: Session) -> str:
    session.set("deleted", name)
    return f"Deleted {name}"


def guard(request):
    if "forbidden" in request.get_latest_user_message():
        raise InterceptorError("Not allowed here.", code="GUARD")
    return request


agent = Agent(
    tools=[get_weather, delete_pod],
    provider="bedrock",
    model="us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    aws_region="eu-west-1",
    system_prompt="You help with pods.",
    request_interceptors=[guard],
)
serve(agent)
"""


@pytest.fixture
def real_dcaf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The stand-in DCAF importable as `dcaf`; the agent file written to tmp_path."""
    before = {name for name in sys.modules if name == "dcaf" or name.startswith("dcaf.")}
    for name in before:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(REAL))
    file = tmp_path / "pods.py"
    file.write_text(textwrap.dedent(AGENT_FILE), encoding="utf-8")
    yield file
    for name in [n for n in sys.modules if n == "dcaf" or n.startswith("dcaf.")]:
        if name not in before:
            del sys.modules[name]


def test_dcaf_s_agent_and_tools_load(real_dcaf: Path) -> None:
    install()
    assert not is_stand_in()  # the real package is used, not dcaf-cli's stand-ins
    agent = load_agent(str(real_dcaf))
    assert isinstance(agent, DcafAgent)
    assert [(t.name, t.requires_approval) for t in agent.tools] == [
        ("get_weather", False),
        ("delete_pod", True),
    ]
    assert agent.model == "bedrock:us.anthropic.claude-3-5-sonnet-20241022-v2:0"
    assert agent.model_options.region == "eu-west-1"
    assert agent.system_prompt == "You help with pods."
    import dcaf.core

    assert dcaf.core.serve.__module__ == "dcaf.core"  # put back after loading


def test_dcaf_s_objects_run_a_turn(real_dcaf: Path) -> None:
    agent = load_agent(str(real_dcaf))
    assert isinstance(agent, DcafAgent)
    agent.use_model("offline")
    reply = agent.run("/get_weather Paris", {"tenant_name": "acme"})
    assert reply.text == "Weather in Paris for acme: Sunny"
    asked = agent.run("/delete_pod web-1")
    assert [p.name for p in asked.pending_tool_calls] == ["delete_pod"]
    blocked = agent.run("something forbidden")
    assert blocked.blocked
    assert blocked.text == "Not allowed here."


def test_dcaf_run_and_tools_with_dcaf_installed(
    real_dcaf: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tools = invoke(capsys, "tools", str(real_dcaf))
    assert tools.code == 0, tools.err
    assert "delete_pod  asks for approval" in tools.out
    session = tmp_path / "pods.json"
    result = invoke(
        capsys, "run", str(real_dcaf), "--session", str(session), "--model", "offline",
        "--json", "--approve", "yes", "-m", "/delete_pod web-1",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out)["reply"] == "Deleted web-1"
    assert json.loads(session.read_text())["session"] == {"deleted": "web-1"}


def test_dcaf_serve_with_dcaf_installed(real_dcaf: Path, tmp_path: Path) -> None:
    from fakes.serving import free_port, wait_until_up

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCAF_")}
    env = {k: v for k, v in env.items() if "PROXY" not in k.upper()}
    env["PYTHONPATH"] = os.pathsep.join([str(REAL), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "dcaf_cli", "serve", str(real_dcaf), "--port", str(port),
               "--model", "offline"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        body = {"messages": [{"role": "user", "content": "/get_weather Oslo",
                              "platform_context": {"tenant_name": "initech"}}]}  # fmt: skip
        reply = httpx.post(f"{url}/api/chat", json=body, trust_env=False, timeout=30).json()
        assert reply["content"] == "Weather in Oslo for initech: Sunny"
    finally:
        stop(proc)
