"""Where the server runs a turn: on its loop while the agent's turns are quick, on a
worker thread once one of them blocked the loop (see dcaf_cli/server/turns.py)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

import httpx
import pytest
from fakes.chat_client import chat, isolate, user
from fakes.live_server import JSON_HEADERS, LiveServer

from dcaf_cli import AgentResult, Session
from dcaf_cli.runtime.agent import FunctionAgent
from dcaf_cli.server import create_app, turns
from dcaf_cli.server.turns import Timed, TurnPlace

BLOCKING = 0.02  # four times turns.QUICK_SECONDS


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)


def where() -> str:
    return "thread" if threading.current_thread().name.startswith("dcaf-turn") else "loop"


def test_a_quick_agent_runs_on_the_servers_loop_after_its_first_turn() -> None:
    seen: list[str] = []

    def counter(messages: list[Any], context: dict[str, Any], session: Session) -> AgentResult:
        seen.append(where())
        session.set("n", session.get("n", 0) + 1)
        return AgentResult(text=f"call {session.get('n')}", session=session.to_dict())

    app = create_app(FunctionAgent(counter))
    with (
        LiveServer(app) as server,
        httpx.Client(headers=JSON_HEADERS, base_url=server.url, trust_env=False) as http,
    ):
        session: dict[str, Any] = {}
        for _ in range(4):
            reply = chat(http, [user("hi", session)])
            session = reply["data"]["session"]
    assert reply["content"] == "call 4"
    assert seen == ["thread", "loop", "loop", "loop"]


def test_an_agent_that_blocks_goes_to_threads_and_is_tried_again_less_and_less(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(turns, "PROBE_GAP", 2)
    seen: list[str] = []

    async def turn() -> str:
        seen.append(where())
        time.sleep(BLOCKING)  # a synchronous SDK call, say
        return "done"

    async def main() -> None:
        place = TurnPlace()
        for _ in range(20):
            assert await place.run(turn) == "done"

    asyncio.run(main())
    # The second turn tries the loop; then after 2 turns, after 8, and never again.
    tried = [i for i, place in enumerate(seen) if place == "loop"]
    assert tried == [1, 4, 13]


def test_a_turn_that_awaits_for_long_does_not_block_the_loop() -> None:
    async def turn() -> None:
        await asyncio.sleep(BLOCKING)

    async def main() -> bool:
        timed = Timed(turn())
        await timed
        return timed.blocked

    assert asyncio.run(main()) is False


@pytest.mark.parametrize("seconds", [BLOCKING, 2 * turns.BUSY_SECONDS])
def test_only_a_turn_computing_for_long_blocks_the_loop(seconds: float) -> None:
    async def turn() -> int:
        end, spins = time.thread_time() + seconds, 0
        while time.thread_time() < end:
            spins += 1
        return spins

    async def main() -> tuple[int, bool]:
        timed = Timed(turn())
        return await timed, timed.blocked

    spins, blocked = asyncio.run(main())
    assert spins > 0
    assert blocked is (seconds > turns.BUSY_SECONDS)


def test_collecting_garbage_is_not_the_turns_blocking() -> None:
    garbage = [{"n": [i]} for i in range(150_000)]  # containers for the collector to walk

    async def turn() -> float:
        start = time.perf_counter()
        gc.collect()
        return time.perf_counter() - start

    async def main() -> tuple[float, bool]:
        timed = Timed(turn())
        return await timed, timed.blocked

    took, blocked = asyncio.run(main())
    assert len(garbage) == 150_000
    assert took > turns.QUICK_SECONDS  # long enough to count, had it been the turn's work
    assert blocked is False


def test_errors_and_cancellation_reach_the_turn_on_the_loop() -> None:
    heard: list[str] = []

    async def failing() -> None:
        raise ValueError("bad tool")

    async def waiting() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            heard.append("cancelled")
            raise

    async def main() -> None:
        place = TurnPlace()
        place.inline = True
        with pytest.raises(ValueError, match="bad tool"):
            await place.run(failing)
        task = asyncio.ensure_future(place.run(waiting))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert place.inline  # neither blocked the loop

    asyncio.run(main())
    assert heard == ["cancelled"]
