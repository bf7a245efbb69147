"""The turn's transaction (`dcaf_cli.session.recorder`, `dcaf_cli.runtime.recorded`): one
recorder for every kind of turn, rolled back on failure, diffed once per turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dcaf_cli.runtime.agent import Agent, FunctionAgent, complete_turn
from dcaf_cli.runtime.recorded import recorded
from dcaf_cli.runtime.results import AgentResponse, AgentResult, Decision, PendingToolCall
from dcaf_cli.session import recorder as recorder_module
from dcaf_cli.session.recorder import Recorder
from dcaf_cli.session.session import Session
from dcaf_cli.tools.tool import tool


def test_commit_keeps_and_returns_the_changes() -> None:
    session = Session({"a": 1, "b": [1, 2]})
    with Recorder(session) as recorder:
        session.set("a", 2)
        session.set("b", [1, 2, 3])
        session.delete("a")
    assert [(c.kind, c.where) for c in recorder.changes] == [("removed", "a"), ("added", "b[2]")]
    assert session.to_dict() == {"b": [1, 2, 3]}


def test_an_exception_rolls_back_and_propagates() -> None:
    session = Session({"a": 1, "b": 2})

    def interrupted() -> None:
        with Recorder(session):
            session.delete("a")
            session.set("c", 3)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert list(session.items()) == [("a", 1), ("b", 2)]  # the order is restored too


def test_rollback_by_hand_leaves_no_changes() -> None:
    session = Session({"a": 1})
    with Recorder(session) as recorder:
        session.set("a", 2)
        recorder.rollback()
    assert recorder.changes == []
    assert session.to_dict() == {"a": 1}
    assert not recorder.open


def test_a_nested_recorder_leaves_the_diff_to_the_outermost() -> None:
    session = Session({"a": 1})
    with Recorder(session) as outer:
        session.set("a", 2)
        with Recorder(session) as inner:
            session.set("b", 1)
        assert inner.changes == []  # not diffed: the outer recorder holds every key
        with Recorder(session) as failed:
            session.set("c", 1)
            failed.rollback()
    assert [(c.kind, c.where) for c in outer.changes] == [("changed", "a"), ("added", "b")]
    assert session.to_dict() == {"a": 2, "b": 1}
    with Recorder(session) as after:  # the outer one is closed: this one diffs again
        session.set("a", 3)
    assert [c.where for c in after.changes] == ["a"]


def test_recorded_turns_an_exception_into_an_error_and_rolls_back() -> None:
    session = Session({"a": 1})

    async def failing() -> AgentResponse:
        session.set("a", 2)
        raise ValueError("broken\nin two lines")

    response = asyncio.run(recorded(session, failing))
    assert response.error == "ValueError: broken in two lines"
    assert isinstance(response.exception, ValueError)
    assert response.changes == []
    assert session.to_dict() == {"a": 1}


def test_recorded_rolls_back_a_step_that_answers_with_an_error() -> None:
    session = Session({"a": 1})

    async def refused() -> AgentResponse:
        session.set("a", 2)
        return AgentResponse("", session, error="the server said no")

    response = asyncio.run(recorded(session, refused))
    assert (response.error, response.changes) == ("the server said no", [])
    assert session.to_dict() == {"a": 1}


def test_recorded_keeps_and_reports_the_changes_of_a_step_that_succeeds() -> None:
    session = Session({"a": 1})
    response = FunctionAgent(lambda m, c, s: s.set("a", 5) or AgentResult("ok")).run(
        [{"role": "user", "content": "x"}], session=session
    )
    assert response.patch == [{"op": "replace", "path": "/a", "value": 5}]


@tool(requires_approval=True)
def bump(session: Session) -> str:
    """Add one to n."""
    session.set("n", session.get("n", 0) + 1)
    return f"n is {session.get('n')}"


@tool
def note(text: str, session: Session) -> str:
    """Keep a note."""
    session.set("note", text)
    return "noted"


def test_a_paused_turn_is_diffed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    diffs: list[Any] = []
    real = recorder_module.changes_of

    def counted(tx: Any) -> Any:
        diffs.append(tx)
        return real(tx)

    monkeypatch.setattr(recorder_module, "changes_of", counted)
    agent = Agent(tools=[bump, note], model="offline")
    session = Session({"n": 1})

    async def approve(pending: list[PendingToolCall]) -> list[Decision]:
        return [Decision(p.id, True) for p in pending]

    outcome = asyncio.run(
        complete_turn(agent, [], {"role": "user", "content": "/bump"}, session, approve)
    )
    assert outcome.response.error is None
    assert outcome.response.patch == [{"op": "replace", "path": "/n", "value": 2}]
    assert len(diffs) == 1  # two agent runs (paused, then resumed), one diff
    # A standalone run is its own outermost recorder: it diffs, once.
    response = agent.run([{"role": "user", "content": "/note hi"}], session=session)
    assert response.patch == [{"op": "add", "path": "/note", "value": "hi"}]
    assert len(diffs) == 2
