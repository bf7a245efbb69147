"""`dcaf replay` per turn, next to the turn it replays: `Conversation.send` with a real
session file (the path of every `dcaf run` turn: turn, record, atomic save), measured in
the same run on the same recording.

The recording is a shop conversation of TURNS turns (add, add, view, ...) made with the
offline model. Replay in `tools` mode re-runs each recorded tool call and compares the
session change and the outputs; in `model` mode it sends each message to the agent again
(offline model) and compares the calls and the change. Neither saves a file, so both
should cost less than the turn they check.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import Row, time_statements
from dcaf_cli.conversation import Conversation
from dcaf_cli.examples import shop
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.testing.replayer import ReplayOptions, replay_file

TURNS = 30
INPUTS = ("add 2 widgets", "add 1 gadget", "/view_cart")


async def _no(pending: list[PendingToolCall]) -> list[Decision]:
    return [Decision(p.id, False) for p in pending]


def _record(folder: Path, loop: asyncio.AbstractEventLoop) -> Conversation:
    store = SessionStore(folder / "shop.json")
    conversation = Conversation(shop.agent, store.open(), store)
    for i in range(TURNS):
        report = loop.run_until_complete(conversation.send(INPUTS[i % len(INPUTS)], _no))
        if not report.ok:
            raise RuntimeError(f"recording failed: {report.error or report.save_error}")
    return conversation


def bench_per_turn() -> list[Row]:
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="dcaf-bench-", dir=os.environ.get("BENCH_DIR")) as d:
        conversation = _record(Path(d), loop)
        doc = conversation.doc
        turns, messages = len(doc.turns), len(doc.messages)

        def send() -> None:  # one more turn, then the history is trimmed back
            loop.run_until_complete(conversation.send("add 2 widgets", _no))
            del doc.turns[turns:]
            del doc.messages[messages:]

        def replay(mode: Any) -> None:
            report = replay_file(
                doc, shop.agent, source="bench", agent_name="shop", options=ReplayOptions(mode)
            )
            if not report.ok:
                raise RuntimeError(str(report))

        times = time_statements(
            {"send": "send()", "tools": "replay('tools')", "model": "replay('model')"},
            {"send": send, "replay": replay},
            repeat=5,
        )
        conversation.close()
    loop.close()
    baseline = times["send"]
    name = "dcaf run turn (send + save)"
    return [
        Row("tools mode, per turn", times["tools"] / TURNS, baseline=baseline,
            baseline_name=name, max_ratio=1.0),
        Row("model mode (offline), per turn", times["model"] / TURNS, baseline=baseline,
            baseline_name=name, max_ratio=1.0),
    ]  # fmt: skip
