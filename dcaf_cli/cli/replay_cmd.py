"""`dcaf replay`: re-run a session file's recorded turns against the agent's current code."""

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dcaf_cli.errors import ExitStatus, UsageError
from dcaf_cli.session.text import plural

if TYPE_CHECKING:
    from dcaf_cli.testing.replayer import ReplayReport, TurnReplay

REPLAY_EXIT_CODES = (
    "Exit codes: 0 every turn matches · 1 a turn diverged or failed · 2 bad input (file, "
    "agent, options), nothing was run."
)


EXAMPLES = (
    "Examples:\n\n"
    "  dcaf replay sessions/shop.json                  # the recorded calls, again\n\n"
    "  dcaf replay sessions/shop.json agents/shop.py   # against another agent file\n\n"
    "  dcaf replay cart.json --model offline           # send the messages again\n\n"
    "  dcaf replay cart.json --ignore /cart/*/added_at --turns 3..8\n\n"
    "  dcaf replay cart.json --json | jq 'select(.ok | not)'\n\n"
    "  dcaf replay cart.json --junit replay.xml        # for CI test reports\n\n"
    + REPLAY_EXIT_CODES
)


def register(app: typer.Typer) -> None:
    """Add `dcaf replay` to `app`."""
    app.command(epilog=EXAMPLES)(replay)


def replay(  # noqa: PLR0917 (Typer reads the options from the parameters)
    file: Annotated[
        Path,
        typer.Argument(
            help="The session file whose turns to replay.", dir_okay=False, show_default=False
        ),
    ],
    agent: Annotated[
        str | None,
        typer.Argument(
            help="The agent to replay against (file, module or built-in). Default: the one "
            "recorded in the file.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Send each recorded message to the agent again with this model (offline, "
            "script:FILE, openai:MODEL, ...) and compare tool calls and session changes. "
            "Default: re-run the recorded tool calls only, no model.",
            show_default=False,
        ),
    ] = None,
    turns: Annotated[
        str | None,
        typer.Option("--turns", help="Only these turns: N, A..B, A.. or ..B.", show_default=False),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="A JSON Pointer to leave out of the comparison, * for any key or index "
            "(/cart/*/added_at). Repeatable.",
            show_default=False,
        ),
    ] = None,
    loose: Annotated[
        bool,
        typer.Option("--loose", help='Compare arguments loosely: case, spacing, 2 and "2" alike.'),
    ] = False,
    stop: Annotated[
        bool, typer.Option("--stop-at-first", "-x", help="Stop at the first turn that differs.")
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="One JSON object per turn, then one with the summary."),
    ] = False,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            help="Also write the results as JUnit XML to this file.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show secrets in the differences (hidden by default).")
    ] = False,
) -> None:
    """Replay a session file's turns against the agent's current code: a recorded
    conversation becomes a regression test.

    By default each recorded tool call runs again with the same arguments and approval
    decisions (no model, deterministic), and each turn's session change and tool outputs are
    compared with the recording. With --model, each recorded message is sent again and the
    tool calls (names, arguments) and session changes are compared. Every turn starts from
    the recorded state before it."""
    from dcaf_cli.store.filestore import read_session_file
    from dcaf_cli.testing.api import agent_for
    from dcaf_cli.testing.compare import parse_ignore
    from dcaf_cli.testing.replayer import ReplayOptions, replay_file

    options = ReplayOptions(
        mode="model" if model is not None else "tools",
        turns=parse_turns(turns) if turns else None,
        ignore=tuple(parse_ignore(ignore or [])),
        loose_args=loose,
        stop_at_first=stop,
    )
    doc = read_session_file(file)
    live, name = agent_for(doc, agent, model)
    show = _Shower(json_output, reveal, total=len(doc.turns))
    try:
        report = replay_file(
            doc, live, source=str(file), agent_name=name, options=options, on_turn=show.turn
        )
    finally:
        show.close()
    show.summary(report)
    if junit is not None:
        from dcaf_cli.testing.junit import write_junit

        write_junit(report, junit)
    if not report.ok:
        raise typer.Exit(int(ExitStatus.ERROR))


def parse_turns(text: str) -> tuple[int, int]:
    """`3`, `3..8`, `3..`, `..8` as an inclusive range of turn numbers."""
    match = re.fullmatch(r"\s*(\d*)\s*(\.\.)?\s*(\d*)\s*", text)
    if not match or not (match[1] or match[3]) or (match[2] is None and not match[1]):
        raise UsageError(f"--turns {text!r} is not a turn range", hint="write N, A..B, A.. or ..B")
    low = int(match[1]) if match[1] else 1
    high = int(match[3]) if match[3] else (low if match[2] is None else sys.maxsize)
    if low > high:
        raise UsageError(f"--turns {text!r} is empty: {low} is after {high}")
    return low, high


class _Shower:
    """Prints each turn as it is replayed (a line, or a JSON object), with a status line
    on a terminal while a turn runs."""

    def __init__(self, json_output: bool, reveal: bool, *, total: int) -> None:
        from dcaf_cli.cli.console import make_console

        self.json_output = json_output
        self.reveal = reveal
        self.total = total
        self.done = 0
        self.console = make_console()
        err = make_console(stderr=True)
        self.status = err.status("replaying…") if err.is_terminal and not json_output else None
        if self.status is not None:
            self.status.start()

    def turn(self, turn: "TurnReplay") -> None:
        self.done += 1
        if self.status is not None:
            self.status.update(f"replaying… {self.done} of {plural(self.total, 'turn')}")
        if self.json_output:
            sys.stdout.write(json.dumps(turn.to_json(), ensure_ascii=False) + "\n")
            return
        from dcaf_cli.render.replay import render_turn

        self.console.print(render_turn(turn, reveal=self.reveal, width=self.console.width))

    def summary(self, report: "ReplayReport") -> None:
        if self.json_output:
            summary = {"summary": report.summary(), "ok": report.ok, **report.counts()}
            sys.stdout.write(json.dumps(summary | {"skipped": report.skipped}) + "\n")
            return
        from dcaf_cli.render.replay import render_summary

        self.console.print(render_summary(report))

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
