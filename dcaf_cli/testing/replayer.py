"""Replay: re-run a session file's recorded turns against the agent's current code and say,
turn by turn, whether it still does what it did then.

Two modes:

- `tools` (no model, deterministic): each recorded tool call runs again with the same
  arguments (the same approval decisions: a rejected call stays unrun), and the turn's
  session change and each tool's output are compared with the recording.
- `model`: each recorded user message is sent to the agent again (approvals answered as
  they were), and the tool trajectory (names and arguments) and the session change are
  compared.

Every turn starts from the recorded state before it (the session, and in `model` mode the
recorded conversation), so one divergence does not cascade into the turns after it.
Turns made by hand (`/set`, `dcaf session set`) are the user's, not the agent's: their
recorded change is applied and they are not judged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dcaf_cli.errors import UsageError
from dcaf_cli.models.base import ToolCall
from dcaf_cli.runtime.agent import Agent, AgentLike, complete_turn
from dcaf_cli.runtime.execution import execute_call
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.runtime.runner import run_sync
from dcaf_cli.runtime.turn import TurnOptions
from dcaf_cli.session.diff import apply_patch, diff_sessions, to_patch
from dcaf_cli.session.jsonvalue import JSON, copy_json, same
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import exception_line, plural
from dcaf_cli.store.history import session_at_turn
from dcaf_cli.store.records import TurnContent, turn_contents
from dcaf_cli.store.sessionfile import SessionFile, TurnRecord
from dcaf_cli.testing.compare import (
    Call,
    Pattern,
    output_problems,
    rejected,
    trajectory_problems,
    without,
)

Mode = Literal["tools", "model"]
Verdict = Literal["match", "diverged", "failed", "given"]


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    mode: Mode = "tools"
    turns: tuple[int, int] | None = None  # first and last turn number, inclusive
    ignore: tuple[Pattern, ...] = ()
    loose_args: bool = False
    stop_at_first: bool = False


@dataclass(slots=True)
class TurnReplay:
    """One recorded turn, replayed."""

    n: int
    input: str
    verdict: Verdict
    problems: list[str] = field(default_factory=list)
    before: dict[str, JSON] = field(default_factory=dict)
    expected: dict[str, JSON] = field(default_factory=dict)  # the session after, recorded
    actual: dict[str, JSON] = field(default_factory=dict)  # the session after, now
    recorded_calls: list[Call] = field(default_factory=list)
    actual_calls: list[Call] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verdict in ("match", "given")

    def to_json(self) -> dict[str, Any]:
        """The turn for `--json`: the verdict, the problems, both patches and both call lists."""
        return {
            "turn": self.n,
            "input": self.input,
            "verdict": self.verdict,
            "ok": self.ok,
            "problems": self.problems,
            "recorded_patch": to_patch(diff_sessions(self.before, self.expected)),
            "actual_patch": to_patch(diff_sessions(self.before, self.actual)),
            "recorded_calls": [_bare(c) for c in self.recorded_calls],
            "actual_calls": [_bare(c) for c in self.actual_calls],
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(slots=True)
class ReplayReport:
    source: str
    agent: str
    mode: Mode
    turns: list[TurnReplay] = field(default_factory=list)
    skipped: int = 0  # turns left out by --turns or after --stop-at-first

    @property
    def ok(self) -> bool:
        return all(turn.ok for turn in self.turns)

    @property
    def first_divergence(self) -> TurnReplay | None:
        return next((turn for turn in self.turns if not turn.ok), None)

    def counts(self) -> dict[str, int]:
        out = {"match": 0, "diverged": 0, "failed": 0, "given": 0}
        for turn in self.turns:
            out[turn.verdict] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        judged = c["match"] + c["diverged"] + c["failed"]
        text = f"{c['match']} of {plural(judged, 'turn')} match{'es' if judged == 1 else ''}"
        if c["diverged"]:
            text += f", {c['diverged']} diverged"
        if c["failed"]:
            text += f", {c['failed']} failed"
        if c["given"]:
            text += f" ({c['given']} made by hand, applied as recorded)"
        return text

    def __str__(self) -> str:
        first = self.first_divergence
        if first is None:
            return f"{self.source}: {self.summary()}"
        return f"{self.source}: turn {first.n} ({first.input!r}): " + "; ".join(first.problems)


Progress = Callable[[TurnReplay], None]


def replay_file(
    doc: SessionFile,
    agent: AgentLike,
    *,
    source: str,
    agent_name: str,
    options: ReplayOptions | None = None,
    on_turn: Progress | None = None,
) -> ReplayReport:
    """Replay `doc`'s turns (all, or `options.turns`) against `agent`; `on_turn` follows along."""
    options = options or ReplayOptions()
    if options.mode == "tools" and not isinstance(agent, Agent):
        raise UsageError(
            f"{agent_name} is not a tool agent, so its turns cannot be replayed tool by tool",
            hint="replay it with --model (its function runs again on each recorded message)",
        )
    records = _selected(doc.turns, options.turns)
    report = ReplayReport(source, agent_name, options.mode)
    report.skipped = len(doc.turns) - len(records)
    if not records:
        return report
    first = _number(records[0])
    state = session_at_turn(doc, _previous_number(doc.turns, first))
    contents = {id(c.record): c for c in turn_contents(doc)}
    replayer = _Replayer(doc, agent, options)
    for record in records:
        turn = replayer.turn(contents[id(record)], state)
        report.turns.append(turn)
        if on_turn is not None:
            on_turn(turn)
        state = turn.expected
        if options.stop_at_first and not turn.ok:
            report.skipped += len(records) - len(report.turns)
            break
    return report


class _Replayer:
    def __init__(self, doc: SessionFile, agent: AgentLike, options: ReplayOptions) -> None:
        self.doc, self.agent, self.options = doc, agent, options

    def turn(self, content: TurnContent, before: dict[str, JSON]) -> TurnReplay:
        """Replay one recorded turn from `before`, the recorded session before it, with the
        conversation before the turn's own messages as its history."""
        record, offset = content.record, content.start
        turn = TurnReplay(
            _number(record),
            str(record.get("input", "")),
            "given",
            before=before,
            expected=_apply(before, record),
            recorded_calls=list(content.tool_calls),
        )
        if record.get("kind") == "edit":
            turn.actual = turn.expected
            return turn
        session = Session.from_dict(before)  # a copy: `before` stays as recorded
        start = time.perf_counter()
        try:
            turn.actual_calls = run_sync(self._run(turn, offset, session))
        except Exception as exc:  # the turn could not run at all: that is the finding
            turn.verdict = "failed"
            turn.problems = [exception_line(exc)]
            turn.actual = before
            return turn
        finally:
            turn.duration_ms = (time.perf_counter() - start) * 1000
        turn.actual = session.to_dict()
        turn.problems = _problems(turn, self.options)
        turn.verdict = "diverged" if turn.problems else "match"
        return turn

    async def _run(self, turn: TurnReplay, offset: int, session: Session) -> list[Call]:
        if self.options.mode == "tools":
            assert isinstance(self.agent, Agent)
            return await _rerun_calls(self.agent, turn.recorded_calls, session)
        history = self.doc.messages[:offset]
        return await _resend(self.agent, history, turn.input, turn.recorded_calls, session)


def _problems(turn: TurnReplay, options: ReplayOptions) -> list[str]:
    problems = trajectory_problems(
        turn.recorded_calls, turn.actual_calls, loosely=options.loose_args
    )
    if options.mode == "tools" and not problems:
        problems += output_problems(turn.recorded_calls, turn.actual_calls)
    want = without(turn.expected, options.ignore)
    got = without(turn.actual, options.ignore)
    if not same(want, got):
        paths = [change.where for change in diff_sessions(want, got)]
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        problems.append(f"the session differs from the recording at {shown}")
    return problems


async def _rerun_calls(agent: Agent, recorded: Sequence[Call], session: Session) -> list[Call]:
    tools = {tool.name: tool for tool in agent.tools}
    out: list[Call] = []
    for index, call in enumerate(recorded, start=1):
        if rejected(call):
            out.append(dict(call))  # it did not run then, and does not run now
            continue
        name = str(call.get("name"))
        arguments = dict(call.get("input") or {})
        done = await execute_call(
            ToolCall(str(call.get("id") or f"replay-{index}"), name, arguments),
            tools.get(name),
            session,
            None,
        )
        out.append(_bare(done.to_wire()))
    return out


async def _resend(
    agent: AgentLike,
    history: list[dict[str, Any]],
    text: str,
    recorded: Sequence[Call],
    session: Session,
) -> list[Call]:
    answers = _RecordedDecisions(recorded)
    outcome = await complete_turn(
        agent,
        history,
        {"role": "user", "content": text},
        session,
        answers.decide,
        options=TurnOptions(),
    )
    if outcome.response.error is not None:
        raise _TurnFailed(outcome.response.error)
    return [_bare(call.to_wire()) for call in outcome.executed]


class _TurnFailed(Exception):
    def __str__(self) -> str:
        return f"the turn failed: {self.args[0]}"


class _RecordedDecisions:
    """Answers the agent's approvals (and requests for missing arguments) as the user did
    when the turn was recorded: the next recorded call of the same tool decides."""

    def __init__(self, recorded: Sequence[Call]) -> None:
        self.unused = list(recorded)

    async def decide(self, pending: list[PendingToolCall]) -> list[Decision]:
        return [self._answer(call) for call in pending]

    def _answer(self, call: PendingToolCall) -> Decision:
        match = next((c for c in self.unused if c.get("name") == call.name), None)
        if match is None:
            return Decision(call.id, False, "this call is not in the recording")
        self.unused.remove(match)
        if rejected(match):
            reason = str(match.get("error", "")).removeprefix("rejected:").strip()
            return Decision(call.id, False, reason or None)
        return Decision(call.id, True, input=dict(match.get("input") or {}))


# -- the recording -------------------------------------------------------------------------


def _selected(records: list[TurnRecord], turns: tuple[int, int] | None) -> list[TurnRecord]:
    if turns is None:
        return list(records)
    low, high = turns
    numbers = [_number(r) for r in records]
    if numbers and not any(low <= n <= high for n in numbers):
        raise UsageError(
            f"the file has no turn in {low}..{high}: its turns are {numbers[0]} to {numbers[-1]}"
        )
    return [r for r in records if low <= _number(r) <= high]


def _apply(before: dict[str, JSON], record: TurnRecord) -> dict[str, JSON]:
    after = copy_json(before)
    try:
        apply_patch(after, record.get("patch") or [])
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise UsageError(
            f"turn {record.get('n', '?')}'s recorded patch does not fit the session before it "
            f"({exc!r}); check the file with `dcaf session validate`"
        ) from None
    assert isinstance(after, dict)
    return after


def _previous_number(records: list[TurnRecord], n: int) -> int:
    earlier = [_number(r) for r in records if _number(r) < n]
    return earlier[-1] if earlier else 0


def _number(record: TurnRecord) -> int:
    n = record.get("n")
    if type(n) is not int:
        raise UsageError(
            f"a turn record has no whole number `n` ({n!r}); run `dcaf session validate`"
        )
    return n


def _bare(call: Call) -> Call:
    """A call as replay compares it: no id, no timing."""
    return {k: v for k, v in call.items() if k not in ("id", "duration_ms")}
