"""`dcaf run --record-model FILE`: a real model's replies kept as a script, so the same
conversation replays offline; and `dcaf session fork`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import invoke
from fakes.openai_server import FakeOpenAIServer, Reply

from dcaf_cli.testing import replay


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def chat(capsys: pytest.CaptureFixture[str], server: FakeOpenAIServer, session: Path,
         script: Path, *messages: str) -> int:  # fmt: skip
    args = [arg for text in messages for arg in ("-m", text)]
    result = invoke(capsys, "run", "shop", "--model", "openai:fake-model", "--base-url",
                    server.url, "--api-key", "k", "--session", str(session),
                    "--record-model", str(script), *args)  # fmt: skip
    return result.code


def test_a_conversation_with_a_real_provider_replays_offline(
    capsys: pytest.CaptureFixture[str], server: FakeOpenAIServer, tmp_path: Path
) -> None:
    session, script = tmp_path / "shop.json", tmp_path / "shop.model.json"
    server.queue(
        Reply.call("add_to_cart", {"item": "Widget", "quantity": 2}),
        Reply.say("Added 2 widgets."),
        Reply.call("view_cart", {}),
        Reply.say("You have 2 widgets."),
    )

    assert chat(capsys, server, session, script, "add 2 widgets", "what is in my cart?") == 0

    replies = json.loads(script.read_text())["replies"]
    assert [r.get("text") for r in replies] == [
        None,
        "Added 2 widgets.",
        None,
        "You have 2 widgets.",
    ]
    assert replies[0]["tool_calls"][0]["name"] == "add_to_cart"
    assert replies[0]["expect"] == "add 2 widgets"
    # Offline, with no server: the recorded replies drive the agent again.
    server.stop()
    result = invoke(capsys, "replay", str(session), "--model", f"script:{script}", "--json")
    assert result.code == 0, result.out + result.err
    assert json.loads(result.out.splitlines()[-1])["match"] == 2
    assert replay(session).ok  # and the tool calls alone, too


def test_a_rolled_back_turn_leaves_nothing_in_the_script(
    capsys: pytest.CaptureFixture[str], server: FakeOpenAIServer, tmp_path: Path
) -> None:
    session, script = tmp_path / "shop.json", tmp_path / "shop.model.json"
    server.queue(
        Reply.call("add_to_cart", {"item": "Widget", "quantity": 2}),
        Reply.error(400, "the model fell over"),  # after the tool ran: the turn rolls back
    )
    assert chat(capsys, server, session, script, "add 2 widgets") == 1
    assert not script.exists()

    server.queue(Reply.call("add_to_cart", {"item": "Gadget", "quantity": 1}), Reply.say("Done."))
    assert chat(capsys, server, session, script, "add a gadget") == 0
    # A later run continues the script, as it continues the session file.
    server.queue(Reply.call("view_cart", {}), Reply.say("One gadget."))
    assert chat(capsys, server, session, script, "show the cart") == 0

    replies = json.loads(script.read_text())["replies"]
    assert [r.get("expect") for r in replies] == ["add a gadget"] * 2 + ["show the cart"] * 2
    result = invoke(capsys, "replay", str(session), "--model", f"script:{script}")
    assert result.code == 0, result.out + result.err


def test_record_model_needs_a_model_driven_agent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = invoke(capsys, "run", "counter", "-m", "hi", "--record-model",
                    str(tmp_path / "m.json"))  # fmt: skip

    assert result.code == 2
    assert "custom agent function: it has no model replies to record" in result.err


# -- dcaf session fork -----------------------------------------------------------------------


@pytest.fixture
def four_turns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    args = ["-m", "add 2 widgets", "-m", "add 1 gadget", "-m", "add 3 widgets", "-m", "checkout"]
    assert invoke(capsys, "run", "shop", "--session", str(path), *args).code == 0
    return path


def test_fork_keeps_the_first_turns(
    capsys: pytest.CaptureFixture[str], four_turns: Path, tmp_path: Path
) -> None:
    new = tmp_path / "fork.json"
    original = four_turns.read_bytes()

    result = invoke(capsys, "session", "fork", str(four_turns), "--at", "2", str(new))

    assert result.code == 0, result.err
    said = " ".join(result.out.split())
    assert f"forked {four_turns} after turn 2 into {new} (2 turns)" in said
    doc = json.loads(new.read_text())
    assert doc["session"] == {"cart": [{"item": "widget", "quantity": 2},
                                       {"item": "gadget", "quantity": 1}]}  # fmt: skip
    assert [t["input"] for t in doc["turns"]] == ["add 2 widgets", "add 1 gadget"]
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant"] * 2
    assert doc["meta"]["forked_from"] == {"file": str(four_turns), "turn": 2, "revision": 4}
    assert doc["meta"]["revision"] == 1
    assert four_turns.read_bytes() == original
    assert new.stat().st_mode & 0o777 == 0o600
    # The fork goes on as a session of its own, and can be compared with where it came from.
    assert invoke(capsys, "run", "shop", "--session", str(new), "-m", "clear my cart").code == 0
    diff = invoke(capsys, "session", "diff", str(four_turns), str(new), "--json")
    assert json.loads(diff.out) == []  # both carts are gone, by different paths
    assert replay(new).ok


def test_fork_at_zero_is_the_session_before_the_first_turn(
    capsys: pytest.CaptureFixture[str], four_turns: Path, tmp_path: Path
) -> None:
    new = tmp_path / "start.json"

    assert invoke(capsys, "session", "fork", str(four_turns), "--at", "0", str(new)).code == 0

    doc = json.loads(new.read_text())
    assert (doc["session"], doc["turns"], doc["messages"]) == ({}, [], [])


@pytest.fixture
def existing(tmp_path: Path) -> None:
    (tmp_path / "existing.json").write_text("{}")


@pytest.mark.usefixtures("existing")
@pytest.mark.parametrize(
    ("at", "target", "message"),
    [
        ("9", "new.json", "there is no turn 9: the file has turns 1 to 4"),
        (
            "2",
            "existing.json",
            "existing.json already exists; `dcaf session fork` never overwrites",
        ),
        ("-1", "new.json", "-1 is not in the range x>=0"),
    ],
)
def test_fork_refuses_bad_input(
    capsys: pytest.CaptureFixture[str], four_turns: Path, at: str, target: str, message: str
) -> None:
    tmp_path = four_turns.parent
    result = invoke(capsys, "session", "fork", str(four_turns), "--at", at, str(tmp_path / target))

    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "new.json").exists()
    assert (tmp_path / "existing.json").read_text() == "{}"
