"""`dcaf replay`: recorded conversations replayed against the agent's current code."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Result, invoke

from dcaf_cli.testing import replay

SHOP_TURNS = ("add 2 widgets", "add 1 gadget", "add 3 widgets", "/view_cart")

# The shop agent with one change of behaviour: a second order of an item merges into the
# line already in the cart, instead of adding a line.
LINES_SHOP = '''
from dcaf_cli import Agent, Session, tool
from dcaf_cli.examples.shop import checkout, clear_cart, view_cart


@tool(description="Add item to shopping cart")
def add_to_cart(item: str, quantity: int, session: Session) -> str:
    """Add an item to the user's cart, on a line of its own (the shop merges lines)."""
    cart = session.get("cart", [])
    cart.append({"item": item, "quantity": quantity})
    session.set("cart", cart)
    total_items = sum(i["quantity"] for i in cart)
    return f"Added {quantity}x {item}. Cart now has {total_items} items."


agent = Agent(tools=[add_to_cart, view_cart, clear_cart, checkout])
'''


def record(capsys: pytest.CaptureFixture[str], path: Path, agent: str, *turns: str) -> None:
    args = [arg for text in turns for arg in ("-m", text)]
    result = invoke(capsys, "run", agent, "--session", str(path), "--approve", "yes", *args)
    assert result.code == 0, result.err


@pytest.fixture
def shop_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "shop.json"
    record(capsys, path, "shop", *SHOP_TURNS)
    return path


@pytest.fixture
def lines_shop(tmp_path: Path) -> Path:
    path = tmp_path / "lines_shop.py"
    path.write_text(LINES_SHOP)
    return path


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")


def replay_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return invoke(capsys, "replay", *args)


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# -- a clean replay --------------------------------------------------------------------------


def test_a_recorded_shop_conversation_replays_clean(
    capsys: pytest.CaptureFixture[str], shop_file: Path
) -> None:
    result = replay_cli(capsys, str(shop_file))

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert [line.split("  ")[0] for line in lines[:4]] == [f"✓ turn {n}" for n in (1, 2, 3, 4)]
    assert lines[-1] == "4 of 4 turns match"


def test_the_model_mode_sends_the_messages_again(
    capsys: pytest.CaptureFixture[str], shop_file: Path
) -> None:
    result = replay_cli(capsys, str(shop_file), "--model", "offline", "--json")

    assert result.code == 0, result.err
    *turns, summary = json_lines(result.out)
    assert [t["verdict"] for t in turns] == ["match"] * 4
    assert turns[2]["actual_calls"] == [
        {
            "name": "add_to_cart",
            "input": {"item": "widget", "quantity": 3},
            "output": "Added 3x widget. Cart now has 6 items.",
        }
    ]
    assert summary == {
        "summary": "4 of 4 turns match",
        "ok": True,
        "match": 4,
        "diverged": 0,
        "failed": 0,
        "given": 0,
        "skipped": 0,
    }


# -- a change of behaviour is found at the right turn -----------------------------------------


def test_a_changed_tool_fails_at_the_turn_it_changes(
    capsys: pytest.CaptureFixture[str], shop_file: Path, lines_shop: Path
) -> None:
    result = replay_cli(capsys, str(shop_file), str(lines_shop))

    assert result.code == 1
    out = result.out
    assert "✓ turn 1" in out
    assert "✓ turn 2" in out
    assert "✓ turn 4" in out
    assert "✗ turn 3  add 3 widgets" in out
    assert "the session differs from the recording at cart[0].quantity, cart[2]" in out
    # The recorded change and today's, side by side, as `dcaf session diff` shows them.
    row = next(line for line in out.splitlines() if "+ cart[2]" in line)
    assert '{"item": "widget", "quantity": 3}' in row
    assert "~ cart[0].quantity 2 → 5" in row
    assert out.splitlines()[-1] == "3 of 4 turns match, 1 diverged"


def test_json_gives_both_patches_of_the_divergent_turn(
    capsys: pytest.CaptureFixture[str], shop_file: Path, lines_shop: Path
) -> None:
    result = replay_cli(capsys, str(shop_file), str(lines_shop), "--json")

    assert result.code == 1
    turns = json_lines(result.out)[:-1]
    assert [t["verdict"] for t in turns] == ["match", "match", "diverged", "match"]
    assert turns[2]["actual_patch"] == [
        {"op": "add", "path": "/cart/2", "value": {"item": "widget", "quantity": 3}}
    ]
    assert turns[2]["recorded_patch"] == [{"op": "replace", "path": "/cart/0/quantity", "value": 5}]


def test_junit_report_has_a_case_per_turn(
    capsys: pytest.CaptureFixture[str], shop_file: Path, lines_shop: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "replay.xml"

    result = replay_cli(capsys, str(shop_file), str(lines_shop), "--junit", str(junit))

    assert result.code == 1
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "0")
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["turn 3: add 3 widgets"]
    failure = failed[0].find("failure")
    assert failure is not None
    assert "cart[0].quantity" in (failure.get("message") or "")


def test_stop_at_first_divergence(
    capsys: pytest.CaptureFixture[str], shop_file: Path, lines_shop: Path
) -> None:
    result = replay_cli(capsys, str(shop_file), str(lines_shop), "-x")

    assert result.code == 1
    assert "turn 4" not in result.out
    assert result.out.splitlines()[-1] == "2 of 3 turns match, 1 diverged; 1 not replayed"


def test_a_range_of_turns_starts_from_the_recorded_state_before_it(
    capsys: pytest.CaptureFixture[str], shop_file: Path, lines_shop: Path
) -> None:
    assert replay_cli(capsys, str(shop_file), str(lines_shop), "--turns", "..2").code == 0
    result = replay_cli(capsys, str(shop_file), str(lines_shop), "--turns", "3", "--json")
    turns = json_lines(result.out)[:-1]
    assert [t["turn"] for t in turns] == [3]
    assert turns[0]["verdict"] == "diverged"


def test_ignored_paths_leave_the_comparison(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    agent = tmp_path / "stamped.py"
    agent.write_text(
        textwrap.dedent(
            """
            import time
            from dcaf_cli import Agent, Session, tool

            @tool
            def add_to_cart(item: str, quantity: int, session: Session) -> str:
                '''Add an item, stamped with the time it was added.'''
                cart = session.get("cart", [])
                cart.append({"item": item, "quantity": quantity, "added_at": time.time_ns()})
                session.set("cart", cart)
                return f"Added {quantity}x {item}."

            agent = Agent(tools=[add_to_cart])
            """
        )
    )
    path = tmp_path / "stamped.json"
    record(capsys, path, str(agent), "/add_to_cart Widget 2", "/add_to_cart Gadget 1")

    assert replay_cli(capsys, str(path)).code == 1
    result = replay_cli(capsys, str(path), "--ignore", "/cart/*/added_at")
    assert result.code == 0, result.out


# -- approvals -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", [None, "offline"])
def test_approvals_replay_with_the_recorded_decisions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str | None
) -> None:
    path = tmp_path / "deploy.json"
    record(capsys, path, "deploy", "start a deployment to staging", "add api 1.4.2")
    record(capsys, path, "deploy", "execute the deployment")  # approved (--approve yes)
    record(capsys, path, "deploy", "start a deployment to production", "add web 2.0.0")
    result = invoke(capsys, "run", "deploy", "--session", str(path), "--approve", "no",
                    "-m", "execute the deployment")  # fmt: skip
    assert result.code == 0, result.err

    mode = ["--model", model] if model else []
    result = replay_cli(capsys, str(path), *mode, "--json")

    assert result.code == 0, result.out
    turns = json_lines(result.out)[:-1]
    approved, rejected = turns[2], turns[5]
    assert approved["actual_calls"][0]["name"] == "execute_deployment"
    assert "Deployed api:1.4.2 to staging" in str(approved["actual_calls"][0]["output"])
    assert approved["actual_patch"] == [{"op": "remove", "path": "/deployment"}]
    assert rejected["actual_calls"][0]["error"].startswith("rejected:")
    assert rejected["actual_patch"] == []


def test_a_call_the_recording_rejected_is_not_run_again(tmp_path: Path) -> None:
    path = tmp_path / "deploy.json"
    doc = {
        "dcaf_session": 1,
        "session": {"deployment": {"environment": "staging", "step": "x", "services": []}},
        "messages": [],
        "turns": [
            {
                "n": 1,
                "input": "execute the deployment",
                "tool_calls": [
                    {
                        "name": "execute_deployment",
                        "input": {},
                        "output": "The user did not run this call: no",
                        "error": "rejected: no",
                    }
                ],
                "patch": [],
                "undo": [],
                "messages": 0,
            }
        ],
        "meta": {"revision": 1, "agent": "deploy"},
    }
    path.write_text(json.dumps(doc))

    report = replay(path)

    assert report.ok, str(report)
    assert report.turns[0].actual == doc["session"]


# -- what replay reports besides a different session -------------------------------------------


def test_a_tool_that_is_gone_is_a_divergence(
    capsys: pytest.CaptureFixture[str], shop_file: Path, tmp_path: Path
) -> None:
    agent = tmp_path / "no_view.py"
    agent.write_text(
        "from dcaf_cli import Agent\n"
        "from dcaf_cli.examples.shop import add_to_cart\n"
        "agent = Agent(tools=[add_to_cart])\n"
    )

    report = replay(shop_file, str(agent))

    assert not report.ok
    first = report.first_divergence
    assert first is not None
    assert first.n == 4
    assert first.problems == ["call 1: view_cart failed: there is no tool named 'view_cart'"]


def test_a_changed_output_is_a_divergence(shop_file: Path, tmp_path: Path) -> None:
    agent = tmp_path / "terse.py"
    agent.write_text(
        "from dcaf_cli import Agent, Session, tool\n"
        "from dcaf_cli.examples.shop import add_to_cart\n"
        "@tool(description='View shopping cart contents')\n"
        "def view_cart(session: Session) -> str:\n"
        "    return str(len(session.get('cart', [])))\n"
        "agent = Agent(tools=[add_to_cart, view_cart])\n"
    )

    report = replay(shop_file, str(agent))

    assert [t.verdict for t in report.turns] == ["match", "match", "match", "diverged"]
    assert report.turns[3].problems == [
        'call 1: view_cart returned "2", recorded "Your cart contains:\\n  - 5x widget\\n  …'
    ]
    assert str(report).startswith(f"{shop_file}: turn 4 ('/view_cart'): call 1: view_cart")


def test_turns_made_by_hand_are_applied_not_judged(
    capsys: pytest.CaptureFixture[str], shop_file: Path
) -> None:
    assert invoke(capsys, "session", "set", str(shop_file), "cart[0].quantity", "9").code == 0
    record(capsys, shop_file, "shop", "/view_cart")

    result = replay_cli(capsys, str(shop_file))

    assert result.code == 0, result.out
    assert "· turn 5  session set cart[0].quantity 9" in result.out
    assert "(made by hand: applied as recorded)" in result.out
    assert result.out.splitlines()[-1] == "5 of 5 turns match (1 made by hand, applied as recorded)"


# -- bad input: one line, exit 2 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json"], "missing.json"),
        (["{shop}", "--turns", "x"], "--turns 'x' is not a turn range"),
        (["{shop}", "--turns", "3..1"], "--turns '3..1' is empty: 3 is after 1"),
        (["{shop}", "--turns", "7..9"], "the file has no turn in 7..9: its turns are 1 to 4"),
        (["{shop}", "--ignore", "cart"], "--ignore 'cart' is not a JSON Pointer"),
        (["{shop}", "counter"], "counter is not a tool agent"),
        (["{shop}", "no_such_agent_module"], "no_such_agent_module"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], shop_file: Path, args: list[str], message: str
) -> None:
    before = shop_file.read_bytes()

    result = replay_cli(capsys, *[arg.replace("{shop}", str(shop_file)) for arg in args])

    assert result.code == 2, result.out
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dcaf: error: ")
    assert message in lines[0]
    assert shop_file.read_bytes() == before


def test_a_file_recorded_against_a_server_needs_an_agent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "remote.json"
    path.write_text(json.dumps({"dcaf_session": 1, "session": {}, "messages": [], "turns": [],
                                "meta": {"agent": "http://127.0.0.1:9/"}}))  # fmt: skip

    result = replay_cli(capsys, str(path))

    assert result.code == 2
    assert "recorded against a server" in result.err
    assert "give the agent file or module as AGENT" in result.err
