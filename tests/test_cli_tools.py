"""`dcaf tools`: an agent's tools, parameters and approval flags; `--json` the model's view.

Golden files under `tests/golden/cli/`; regenerate with `DCAF_UPDATE_GOLDEN=1` (see
`tests/golden_helpers.py`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import invoke, make_workdir
from golden_helpers import assert_golden

from dcaf_cli.runtime.loader import load_agent

DCAF = Path(sys.executable).with_name("dcaf")
AGENT = textwrap.dedent(
    '''
    from enum import Enum
    from typing import Annotated, Literal

    from pydantic import Field

    from dcaf_cli import Session, tool


    class Size(Enum):
        S = "small"
        L = "large"


    @tool(requires_approval=True)
    def order(
        item: Annotated[str, Field(description="What to order, e.g. [red]Widget[/red]")],
        size: Size = Size.S,
        speed: Literal["slow", "fast"] = "slow",
        quantity: int = 1,
        note: str | None = None,
        session: Session | None = None,
    ) -> str:
        """Place an order.

        Args:
            quantity: How many.
        """
        return "ok"


    @tool
    def ping() -> str:
        """Say pong."""
        return "pong"
    '''
)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = make_workdir(tmp_path, monkeypatch)
    (folder / "agent.py").write_text(AGENT)
    return folder


def test_tools_of_a_file_agent_golden(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    result = invoke(capsys, "tools", "agent.py")
    assert result.code == 0
    assert result.err == ""
    assert_golden("cli/tools_agent.txt", result.out)


def test_tools_of_a_built_in_agent_golden(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    result = invoke(capsys, "tools", "deploy")
    assert result.code == 0
    assert "asks for approval" in result.out
    assert_golden("cli/tools_deploy.txt", result.out)


def test_json_is_what_the_model_is_told(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    result = invoke(capsys, "tools", "agent.py", "--json")
    specs = json.loads(result.out)
    tools = load_agent("agent.py").tools
    assert specs == [
        {
            "name": t.name,
            "description": t.description,
            "parameters": t.parameters,
            "requires_approval": t.requires_approval,
        }
        for t in tools
    ]
    order = specs[0]["parameters"]
    assert order["required"] == ["item"]
    assert "session" not in order["properties"]
    assert order["properties"]["speed"]["enum"] == ["slow", "fast"]


def test_default_agent_is_notes(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    result = invoke(capsys, "tools")
    assert result.code == 0
    assert result.out.startswith("dcaf_cli.examples.notes:")


def test_an_agent_function_has_no_tools_of_its_own(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    Path("fn.py").write_text("def agent(messages, context):\n    return 'hi'\n")
    result = invoke(capsys, "tools", "fn.py")
    assert result.code == 0
    assert "has no tools of its own" in result.out
    assert json.loads(invoke(capsys, "tools", "fn.py", "--json").out) == []


def test_an_unknown_agent_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    result = invoke(capsys, "tools", "no_such_module_here")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("dcaf: error: agent 'no_such_module_here'")
    assert result.err.count("\n") == 1


def test_installed_tools_json(work: Path) -> None:
    proc = subprocess.run(
        [DCAF, "tools", "shop", "--json"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert [t["name"] for t in json.loads(proc.stdout)] == [
        "add_to_cart", "remove_from_cart", "view_cart", "clear_cart", "checkout"
    ]  # fmt: skip


def test_one_tool_is_counted_in_the_singular(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    (work / "one.py").write_text(
        "from dcaf_cli import Agent, tool\n\n\n"
        "@tool\ndef ping() -> str:\n    return 'pong'\n\n\n"
        "agent = Agent(tools=[ping], name='one')\n"
    )
    result = invoke(capsys, "tools", "one.py")
    assert result.code == 0, result
    assert result.out.splitlines()[0] == "one.py: 1 tool"
