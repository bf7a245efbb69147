"""The turn loop: tool errors, rollback of failed and cancelled turns, the bound on rounds,
async tools, argument coercion, direct `/tool` calls, events and call ids.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fakes.models import FailingModel, RecordingModel, write_script

from dcaf_cli import Agent, Session, tool
from dcaf_cli.errors import ModelError
from dcaf_cli.examples import notes, shop
from dcaf_cli.models.script import ScriptModel
from dcaf_cli.runtime.results import ModelRound, TextDelta, ToolFinished, ToolStarted, TurnEvent
from dcaf_cli.runtime.runner import run_sync

BEFORE = {"keep": {"nested": [1, 2]}, "count": 1, "last": "x"}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def scripted(tmp_path: Path, replies: list[dict[str, Any]]) -> ScriptModel:
    return ScriptModel(write_script(tmp_path / "script.json", replies))


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


@tool
def wreck(session: Session) -> str:
    """Changes three keys (one added, one changed, one deleted), then fails."""
    session.set("added", [1])
    session.set("count", 99)
    session.delete("keep")
    raise ValueError("disk full\nwhile writing")


@tool
def bump(session: Session) -> str:
    """Add one to the count."""
    session.set("count", session.get("count", 0) + 1)
    return "bumped"


@tool
async def slow_bump(by: int, session: Session) -> str:
    """An async tool: awaited, not returned as a coroutine."""
    await asyncio.sleep(0)
    session.set("count", session.get("count", 0) + by)
    return f"count is {session.get('count')}"


# -- a tool that raises ------------------------------------------------------------------


def test_a_failing_tool_is_an_error_result_and_leaves_no_trace(tmp_path: Path) -> None:
    model = RecordingModel(
        scripted(tmp_path, [{"tool_calls": [call("wreck")]}, {"text": "Sorry."}])
    )
    agent = Agent(tools=[wreck], model=model)
    live = Session(BEFORE)
    response = agent.run([user("go")], session=live)

    assert response.error is None  # the turn itself went on
    assert response.text == "Sorry."  # the model continued after the error
    [failed] = response.executed_tool_calls
    assert failed.error == "ValueError: disk full while writing"
    assert failed.output == "Error: ValueError: disk full while writing"
    assert live.to_dict() == BEFORE
    assert list(live.keys()) == list(BEFORE)  # a deleted key comes back in its place
    assert not live.is_modified
    assert response.changes == []
    [result] = model.tool_results()
    assert result.is_error
    assert "disk full" in result.content


def test_a_failing_tool_undoes_only_itself(tmp_path: Path) -> None:
    model = scripted(
        tmp_path, [{"tool_calls": [call("bump"), call("wreck")]}, {"text": "Half done."}]
    )
    response = Agent(tools=[bump, wreck], model=model).run([user("go")], session=BEFORE)
    assert [(c.name, c.error is None) for c in response.executed_tool_calls] == [
        ("bump", True),
        ("wreck", False),
    ]
    assert response.session == {**BEFORE, "count": 2}
    assert response.patch == [{"op": "replace", "path": "/count", "value": 2}]


def test_a_model_failing_after_a_tool_succeeded_rolls_back_the_whole_turn(tmp_path: Path) -> None:
    model = scripted(tmp_path, [{"tool_calls": [call("bump")]}, {"error": "503 from the provider"}])
    live = Session(BEFORE)
    response = Agent(tools=[bump], model=model).run([user("go")], session=live)
    assert response.error == "503 from the provider"
    assert isinstance(response.exception, ModelError)
    assert live.to_dict() == BEFORE
    assert response.session == BEFORE
    assert not live.is_modified
    assert response.changes == []


def test_a_model_failing_at_once_is_an_error_response() -> None:
    model = FailingModel("authentication failed: check OPENAI_API_KEY")
    response = Agent(tools=[bump], model=model).run([user("bump it")], session=BEFORE)
    assert response.error == "authentication failed: check OPENAI_API_KEY"
    assert response.text == ""
    assert response.session == BEFORE
    assert response.to_message()["data"]["error"] == response.error


def test_keyboard_interrupt_inside_a_tool_rolls_back_and_is_reraised(tmp_path: Path) -> None:
    @tool
    def interrupted(session: Session) -> str:
        session.set("count", 1000)
        raise KeyboardInterrupt

    model = scripted(tmp_path, [{"tool_calls": [call("bump"), call("interrupted")]}])
    live = Session(BEFORE)
    with pytest.raises(KeyboardInterrupt):
        Agent(tools=[bump, interrupted], model=model).run([user("go")], session=live)
    # bump had finished, but the turn did not: its change goes too.
    assert live.to_dict() == BEFORE
    assert not live.is_modified
    # The session is usable afterwards: no transaction was left open.
    assert shop.agent.run([user("/add_to_cart Widget 1")], session=live).session["count"] == 1
    assert live.is_modified


def _interrupt() -> None:
    raise KeyboardInterrupt


def test_ctrl_c_while_an_async_tool_waits_cancels_through_run_sync() -> None:
    """Ctrl-C arrives while the loop waits on I/O: `run_sync` cancels the task, lets it
    unwind (every transaction rolls back), then re-raises KeyboardInterrupt."""
    unwound: list[str] = []

    @tool
    async def waits(session: Session) -> str:
        session.set("count", 42)
        asyncio.get_running_loop().call_later(0.01, _interrupt)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            unwound.append("cancelled")
            raise
        return "never"

    live = Session(BEFORE)
    with pytest.raises(KeyboardInterrupt):
        Agent(tools=[waits]).run([user("/waits")], session=live)
    assert unwound == ["cancelled"]
    assert live.to_dict() == BEFORE
    assert not live.is_modified


def test_a_cancelled_arun_task_rolls_back() -> None:
    started = asyncio.Event()

    @tool
    async def waits(session: Session) -> str:
        session.set("count", 42)
        started.set()
        await asyncio.sleep(30)
        return "never"

    live = Session(BEFORE)

    async def main() -> None:
        task = asyncio.create_task(Agent(tools=[waits]).arun([user("/waits")], session=live))
        await started.wait()
        assert live.get("count") == 42
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert live.to_dict() == BEFORE


def test_run_sync_refuses_a_running_loop() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="use the async twin"):
            shop.agent.run([user("/view_cart")])

    asyncio.run(main())


def test_run_sync_returns_the_result_and_closes_its_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def answer() -> int:
        loops.append(asyncio.get_running_loop())
        return 42

    assert run_sync(answer()) == 42
    assert loops[0].is_closed()


# -- the bound on rounds -------------------------------------------------------------------


def test_a_model_that_keeps_calling_tools_is_stopped_and_rolled_back(tmp_path: Path) -> None:
    model = scripted(tmp_path, [{"tool_calls": [call("bump")]}] * 10)
    live = Session(BEFORE)
    runs: list[int] = []
    events: list[TurnEvent] = []

    def sink(event: TurnEvent) -> None:
        events.append(event)
        if isinstance(event, ToolFinished):
            runs.append(live.get("count"))

    response = Agent(tools=[bump], model=model, max_rounds=3).run(
        [user("go")], session=live, on_event=sink
    )
    assert response.error is not None
    assert "3 rounds" in response.error
    assert "rolled back" in response.error
    assert runs == [2, 3, 4]  # the tool really ran three times...
    assert live.to_dict() == BEFORE  # ...and none of it stayed
    assert [e.n for e in events if isinstance(e, ModelRound)] == [1, 2, 3]
    assert model.position == 3


# -- arguments, unknown tools, async tools ---------------------------------------------------


def test_arguments_are_coerced_before_the_call(tmp_path: Path) -> None:
    model = scripted(
        tmp_path,
        [{"tool_calls": [call("add_to_cart", item="Widget", quantity="2")]}, {"text": "ok"}],
    )
    response = Agent(tools=shop.agent.tools, model=model).run([user("go")], session={})
    assert response.session == {"cart": [{"item": "Widget", "quantity": 2}]}
    assert response.executed_tool_calls[0].output == "Added 2x Widget. Cart now has 2 items."


def test_invalid_arguments_are_an_error_result_the_model_reads(tmp_path: Path) -> None:
    model = RecordingModel(
        scripted(
            tmp_path,
            [
                {"tool_calls": [call("add_to_cart", item="Widget", quantity="lots", colour="red")]},
                {"text": "I could not add that."},
            ],
        )
    )
    response = Agent(tools=shop.agent.tools, model=model).run([user("go")], session={})
    [failed] = response.executed_tool_calls
    assert failed.error is not None
    assert "argument 'quantity'" in failed.error
    assert "unknown argument 'colour'" in failed.error
    assert response.session == {}
    assert response.text == "I could not add that."
    assert model.tool_results()[0].is_error


def test_an_unknown_tool_is_an_error_result_and_the_model_continues(tmp_path: Path) -> None:
    model = RecordingModel(
        scripted(tmp_path, [{"tool_calls": [call("launch_rockets")]}, {"text": "No rockets."}])
    )
    response = Agent(tools=[bump], model=model).run([user("go")], session=BEFORE)
    [failed] = response.executed_tool_calls
    assert failed.error == "there is no tool named 'launch_rockets'"
    assert response.text == "No rockets."
    assert response.error is None
    assert response.session == BEFORE
    assert model.tool_results()[0].content == "Error: there is no tool named 'launch_rockets'"


def test_async_tools_are_awaited_in_a_turn(tmp_path: Path) -> None:
    model = scripted(
        tmp_path,
        [
            {"tool_calls": [call("slow_bump", by="5")]},
            {"tool_calls": [call("slow_bump", by=1)]},
            {"text": "done"},
        ],
    )
    response = Agent(tools=[slow_bump], model=model).run([user("go")], session={"count": 1})
    assert [c.output for c in response.executed_tool_calls] == ["count is 6", "count is 7"]
    assert response.session == {"count": 7}
    assert response.patch == [{"op": "replace", "path": "/count", "value": 7}]


def test_tool_results_that_are_not_strings_reach_the_model_as_json(tmp_path: Path) -> None:
    @tool
    def stats() -> dict[str, Any]:
        return {"items": 2, "names": ["Widget"]}

    @tool
    def nothing() -> None:
        return None

    model = RecordingModel(
        scripted(tmp_path, [{"tool_calls": [call("stats"), call("nothing")]}, {"text": "."}])
    )
    Agent(tools=[stats, nothing], model=model).run([user("go")])
    assert [m.content for m in model.tool_results()] == [
        '{"items": 2, "names": ["Widget"]}',
        "done",
    ]


# -- direct `/tool` calls ------------------------------------------------------------------


def test_direct_calls_work_under_any_model_without_asking_it() -> None:
    model = FailingModel()
    agent = Agent(tools=notes.agent.tools, model=model)
    session: dict[str, Any] = {}
    for text in ('/remember "favorite color" "dark blue"', "/remember key=zip value=02134"):
        response = agent.run([user(text)], session=session)
        assert response.error is None
        assert response.data == {"direct": True}
        session = response.session
    assert session == {"favorite color": "dark blue", "zip": "02134"}  # str keeps the zero
    assert agent.run([user("/recall zip")], session=session).text == "zip is '02134'"
    assert model.calls == 0


def test_direct_call_values_are_json_where_they_parse() -> None:
    seen: list[Any] = []

    @tool
    def take(items: list[int], flag: bool, label: str) -> str:
        seen.append((items, flag, label))
        return "ok"

    Agent(tools=[take], model=FailingModel()).run([user("/take [1,2] true 42")])
    assert seen == [([1, 2], True, "42")]


def test_a_slash_word_that_is_no_tool_goes_to_the_model() -> None:
    model = RecordingModel()
    response = Agent(tools=shop.agent.tools, model=model).run([user("/nope 1")])
    assert response.text.startswith("There is no tool named 'nope'.")
    assert model.last.messages[-1].content == "/nope 1"


def test_a_direct_call_missing_arguments_pauses_and_resumes_without_the_model() -> None:
    model = FailingModel()
    agent = Agent(tools=shop.agent.tools, model=model)
    first = user("/add_to_cart Widget")
    paused = agent.run([first], session={})
    [pending] = paused.pending_tool_calls
    assert (pending.reason, pending.missing, pending.input) == (
        "missing_arguments",
        ["quantity"],
        {"item": "Widget"},
    )
    assert paused.to_message()["data"]["tool_calls"][0]["intent"] == "missing_arguments"
    decision = {
        "role": "user",
        "content": "",
        "data": {
            "tool_calls": [
                {**pending.to_wire(), "execute": True, "input": {"item": "Widget", "quantity": 3}}
            ]
        },
    }
    done = agent.run([first, paused.to_message(), decision], session={})
    assert done.text == "Added 3x Widget. Cart now has 3 items."
    assert done.session == {"cart": [{"item": "Widget", "quantity": 3}]}
    assert model.calls == 0


def test_a_bad_direct_call_is_an_error_response() -> None:
    response = Agent(tools=notes.agent.tools).run([user('/remember "unclosed')], session=BEFORE)
    assert response.error is not None
    assert "close the quote" in response.error
    assert response.session == BEFORE


# -- events, ids, usage ----------------------------------------------------------------------


def test_events_follow_the_turn(tmp_path: Path) -> None:
    model = scripted(
        tmp_path, [{"text": "Let me bump.", "tool_calls": [call("bump")]}, {"text": "Bumped it."}]
    )
    events: list[TurnEvent] = []
    Agent(tools=[bump], model=model).run([user("go")], session={}, on_event=events.append)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "ModelRound"
    assert kinds.index("ToolStarted") < kinds.index("ToolFinished") < kinds.index("ModelRound", 1)
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed == "Let me bump.Bumped it."
    started = next(e for e in events if isinstance(e, ToolStarted))
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert started.name == finished.call.name == "bump"
    assert finished.call.duration_ms >= 0


def test_call_ids_are_unique_within_a_turn(tmp_path: Path) -> None:
    same_id = {"name": "bump", "id": "c1"}
    model = scripted(
        tmp_path, [{"tool_calls": [same_id, same_id]}, {"tool_calls": [same_id]}, {"text": "."}]
    )
    response = Agent(tools=[bump], model=model).run([user("go")], session={})
    ids = [c.id for c in response.executed_tool_calls]
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert ids[0] == "c1"


def test_usage_adds_up_over_the_rounds(tmp_path: Path) -> None:
    model = scripted(
        tmp_path, [{"text": "one two", "tool_calls": [call("bump")]}, {"text": "three"}]
    )
    response = Agent(tools=[bump], model=model).run([user("go now")], session={})
    assert response.usage["output_tokens"] == 3
    assert response.usage["input_tokens"] > 0


def test_two_pending_calls_one_approved_one_rejected(tmp_path: Path) -> None:
    @tool(requires_approval=True)
    def charge(amount: int, session: Session) -> str:
        session.set("charged", session.get("charged", 0) + amount)
        return f"charged {amount}"

    model = scripted(
        tmp_path,
        [
            {"tool_calls": [call("bump"), call("charge", amount=5), call("charge", amount=7)]},
            {"text": "."},
        ],
    )
    agent = Agent(tools=[bump, charge], model=model)
    first = user("go")
    paused = agent.run([first], session={})
    assert [p.input for p in paused.pending_tool_calls] == [{"amount": 5}, {"amount": 7}]
    assert paused.session == {"count": 1}  # bump ran before the pause
    five, seven = paused.pending_tool_calls
    decision = {
        "role": "user",
        "content": "",
        "data": {
            "tool_calls": [
                {**five.to_wire(), "execute": True},
                {**seven.to_wire(), "rejection_reason": "too much"},
            ]
        },
    }
    done = agent.run([first, paused.to_message(), decision], session=paused.session)
    assert done.session == {"count": 1, "charged": 5}
    assert [(c.input, c.error) for c in done.executed_tool_calls] == [
        ({"amount": 5}, None),
        ({"amount": 7}, "rejected: too much"),
    ]


@pytest.mark.parametrize("diff", [True, False])
def test_a_turn_lists_its_session_changes_unless_told_not_to(diff: bool) -> None:
    from dcaf_cli.runtime.agent import FunctionAgent
    from dcaf_cli.runtime.loader import load_agent
    from dcaf_cli.runtime.turn import TurnOptions

    options = TurnOptions(diff=diff)
    message = [{"role": "user", "content": "add 1 gadget"}]
    for agent in (load_agent("shop"), FunctionAgent(lambda m, c, s: s.set("n", 1) or "ok")):
        session = Session({"cart": []})
        response = run_sync(agent.arun(message, session=session, options=options))
        assert response.error is None
        assert session.to_dict() != {"cart": []}  # the change is kept either way
        assert bool(response.changes) is diff
