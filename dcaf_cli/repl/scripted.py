"""Scripted chat: `dcaf run -m MSG`, piped stdin, `--json`. One turn per line, no prompts.

Approvals follow `--approve yes|no` (`AutoDecider`); the turn view or one JSON object per
turn goes to stdout, problems to stderr; the run stops at the first turn that fails, with
its exit status. Like the REPL, it takes the conversation and the consoles as parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import DcafError, ExitStatus
from dcaf_cli.render.text import literal
from dcaf_cli.render.turn import render_secrets_warning
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.session.jsonvalue import unencodable
from dcaf_cli.session.redact import redact_message
from dcaf_cli.tools.slashcall import split_slash


@dataclass(frozen=True, slots=True)
class ScriptOptions:
    json_output: bool = False  # one JSON object per turn on stdout
    approve: bool | None = None  # --approve yes (True) or no (False); None: not given
    reveal: bool = False  # show secrets instead of redacting them
    debug: bool = False  # show the exception behind a failed turn
    source: str = "stdin line"  # what a line is called in an error: or "-m message"


class AutoDecider:
    """Decisions without a terminal: `--approve yes|no`; missing arguments are refused."""

    def __init__(self, approve: bool | None, console: Console, *, announce: bool = True) -> None:
        self.approve = bool(approve)
        self.console = console
        # With --json the verdicts go to stderr, for people; otherwise the turn view shows
        # each call, run or not, and saying it again on stderr would say it twice.
        self.announce = announce
        self.before_ask: Callable[[], None] | None = None  # clears the turn's status line

    async def __call__(self, pending: list[PendingToolCall]) -> list[Decision]:
        if self.before_ask is not None:
            self.before_ask()
        decisions = []
        for call in pending:
            if call.reason == "missing_arguments":
                missing = ", ".join(call.missing)
                reason = f"missing required argument(s) {missing}, and no terminal to ask"
                decisions.append(Decision(call.id, False, reason))
            elif self.approve:
                decisions.append(Decision(call.id, True))
            else:
                decisions.append(
                    Decision(call.id, False, "not approved (run with --approve yes to allow)")
                )
            if self.announce:
                verdict = "approved" if decisions[-1].approve else "rejected: "
                verdict += "" if decisions[-1].approve else str(decisions[-1].reason)
                # soft_wrap: one line whatever the width (stderr is read by people and scripts)
                self.console.print(
                    f"{call.name}: {verdict}", markup=False, highlight=False, soft_wrap=True
                )
        return decisions


def run_script(
    conversation: Conversation,
    lines: Iterable[str],
    options: ScriptOptions,
    out: Console,
    err: Console,
) -> ExitStatus:
    """One turn per line; stops at the first turn that fails, with its exit status."""
    script = _Script(conversation, options, out, err)
    for number, text in enumerate(lines, 1):
        if unencodable(text):
            script.error(
                f"{options.source} {number} is not valid UTF-8 text (undecodable bytes); "
                "nothing ran: send UTF-8"
            )
            return ExitStatus.BAD_INPUT
        unknown = _unknown_tool(conversation, text)
        if unknown is not None:
            script.error(unknown)
            return ExitStatus.BAD_INPUT
        try:
            report = script.turn(text)
        except KeyboardInterrupt:
            # Typer makes a KeyboardInterrupt a silent exit 130: say what happened.
            script.err.print(
                "dcaf: interrupted: the turn was cancelled; nothing changed, nothing saved"
            )
            return ExitStatus.INTERRUPTED
        if not report.ok:
            return _status(report)
    if conversation.unsaved and conversation.path is not None:  # never exit 0 losing a turn
        script.error(f"{conversation.path} does not have the last turns: saving them failed")
        return ExitStatus.ERROR
    return ExitStatus.OK


class _Script:
    """One scripted turn: JSON lines or the turn view on stdout, problems on stderr."""

    def __init__(
        self, conversation: Conversation, options: ScriptOptions, out: Console, err: Console
    ) -> None:
        from dcaf_cli.repl.view import TurnView

        self.conversation, self.options, self.out, self.err = conversation, options, out, err
        self.decide = AutoDecider(options.approve, err, announce=options.json_output)
        self.view = TurnView(out, conversation, reveal=options.reveal, debug=options.debug, err=err)

    def turn(self, text: str) -> TurnReport:
        from dcaf_cli.runtime.runner import run_sync

        if self.options.json_output:
            report = run_sync(self.conversation.send(text, self.decide))
            line = json.dumps(report.to_json(reveal=self.options.reveal), ensure_ascii=False)
            self.out.file.write(line + "\n")
            self.out.file.flush()
            _report_problems(report, self.err)
        else:
            printer = self.view.printer()
            self.decide.before_ask = printer.pause
            try:
                report = run_sync(self.conversation.send(text, self.decide, printer))
            finally:
                printer.pause()
            self.view.show_turn(report, printer)
        return report

    def error(self, message: str) -> None:
        self.err.print(Text("dcaf: error: ") + literal(redact_message(message)), soft_wrap=True)


def _report_problems(report: TurnReport, err: Console) -> None:
    """--json keeps stdout for the JSON lines: errors and warnings go to stderr."""
    if report.secrets:
        err.print(render_secrets_warning(report.secrets), soft_wrap=True)
    problem = report.error or (str(report.save_error) if report.save_error else None)
    if problem:
        err.print(Text("dcaf: error: ") + literal(redact_message(problem)), soft_wrap=True)


def _status(report: TurnReport) -> ExitStatus:
    if report.save_error is not None:
        return report.save_error.exit_status
    if isinstance(report.exception, DcafError):  # bad arguments are 2, a model failure 1
        return report.exception.exit_status
    return ExitStatus.ERROR


# The REPL's commands that work on the file, and the offline command that does the same.
FILE_COMMANDS = {
    "undo": "undo", "set": "set", "del": "delete", "get": "get", "session": "show",
    "log": "log", "diff": "diff",
}  # fmt: skip


def _unknown_tool(conversation: Conversation, text: str) -> str | None:
    """`/name ...` for a tool this (local) agent lacks: refused before anything runs, as
    the REPL refuses an unknown command; a REPL command gets the command to use instead."""
    parts = split_slash(text)
    tools = conversation.agent.tools
    if parts is None or not tools or parts[0] in {t.name for t in tools}:
        return None
    if parts[0] in FILE_COMMANDS:
        where = str(conversation.path) if conversation.path else "FILE"
        return (
            f"/{parts[0]} is a command of the interactive chat; in a script use "
            f"`dcaf session {FILE_COMMANDS[parts[0]]} {where} ...`"
        )
    names = ", ".join(f"/{t.name}" for t in tools)
    return f"/{parts[0]} is not a tool of {conversation.agent.name} (its tools: {names})"
