"""End to end, in tmux: what the terminal shows while a model thinks, a tool runs, and a
reply streams, and what a Ctrl-C in the middle of a streamed reply leaves on screen.

The fake model and tool wait on gate files the test creates, so every screen the test
checks stays up until the test has seen it: nothing depends on timing.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from test_e2e_terminal import DCAF, Terminal, prompt_text, terminal  # noqa: F401

AGENT = """
import asyncio, os, time
from pathlib import Path
from dcaf_cli import Agent, tool
from dcaf_cli.models.base import ModelReply, ToolCall

GATES = Path(os.environ["GATES"])


def opened(name):
    return (GATES / name).exists()


@tool(description="Wait a while")
def wait(seconds: int) -> str:
    while not opened("tool"):
        time.sleep(0.02)
    return f"waited {seconds} s"


class GatedModel:
    name = "gated"

    async def complete(self, request, on_text=None):
        last = request.messages[-1]
        while not opened("think" + str(len(request.messages))):
            await asyncio.sleep(0.02)
        if last.role == "user" and "wait" in last.content:
            return ModelReply("", [ToolCall("w1", "wait", {"seconds": 5})])
        words = "alpha beta gamma delta".split()
        for word in words:
            on_text(word + " ")
        while not opened("finish"):
            await asyncio.sleep(0.02)
        on_text("omega")
        return ModelReply(" ".join(words) + " omega", [])


agent = Agent(tools=[wait], model=GatedModel(), name="gated")
"""


@pytest.fixture
def gated(tmp_path: Path, terminal: Terminal) -> tuple[Terminal, Path]:  # noqa: F811
    (tmp_path / "gated.py").write_text(AGENT, encoding="utf-8")
    gates = tmp_path / "gates"
    gates.mkdir()
    terminal.env["GATES"] = str(gates)
    cart = tmp_path / "s.json"
    command = f"{shlex.quote(str(DCAF))} run {tmp_path / 'gated.py'} --session {cart}"
    terminal.start(f'{command}; echo "[dcaf exited $?]"; sleep 60')
    terminal.wait_for(lambda s: prompt_text(s) == "")
    return terminal, gates


def test_a_spinner_while_the_model_thinks_and_the_tool_runs(gated: tuple[Terminal, Path]) -> None:
    term, gates = gated
    term.type("please wait")
    term.keys("Enter")
    screen = term.wait_for("thinking…")
    assert "Ctrl-C cancels" in screen
    assert " s · " in screen  # the elapsed time

    (gates / "think1").touch()
    screen = term.wait_for("running wait(seconds=5)…")
    assert "▸ wait(seconds=5)\n" in screen  # the call line, as the tool starts
    assert "Ctrl-C cancels" in screen

    (gates / "tool").touch()
    # the result, and the model's second round
    screen = term.wait_for(lambda s: "  ↳ waited 5 s" in s and "thinking…" in s)
    call = next(ln for ln in screen.splitlines() if ln.startswith("▸ wait"))
    assert call.rstrip().endswith((" s", " ms", " µs"))  # its duration, as it ends

    for n in (3, 4):  # the second round: user, assistant, tool messages (and more)
        (gates / f"think{n}").touch()
    (gates / "finish").touch()
    screen = term.wait_for(lambda s: "alpha beta gamma delta omega" in s and "saved" in s)
    assert "thinking…" not in screen
    assert "running" not in screen


def test_ctrl_c_mid_stream_prints_the_partial_reply_once(gated: tuple[Terminal, Path]) -> None:
    term, gates = gated
    term.type("tell me")
    term.keys("Enter")
    (gates / "think1").touch()
    term.wait_for("alpha beta gamma delta")
    term.keys("C-c")
    screen = term.wait_for(lambda s: "turn cancelled" in s and prompt_text(s) == "")
    lines = [ln.rstrip() for ln in screen.splitlines()]
    assert sum("alpha beta gamma delta" in ln for ln in lines) == 1
    assert "turn cancelled: nothing changed, nothing saved" in lines  # on its own line
    assert "^C" not in screen
    assert "omega" not in screen
