"""Build the real objects for `dcaf run` (store, agent, console, prompt) and run the chat,
interactive or scripted. The only place that constructs them: the loop itself takes them
as parameters."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from dcaf_cli import settings as dcaf_settings
from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import DcafError, ExitStatus, UsageError
from dcaf_cli.models.base import ModelOptions
from dcaf_cli.render.text import literal
from dcaf_cli.render.turn import render_secrets_warning
from dcaf_cli.runtime.agent import Agent, AgentLike
from dcaf_cli.runtime.loader import DEFAULT_AGENT, load_agent
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.store.sessionfile import SessionFile, new_session_file
from dcaf_cli.tools.slashcall import split_slash


@dataclass
class ChatSettings:
    agent: str | None = None
    session: Path | None = None
    model: str | None = None
    url: str | None = None
    messages: list[str] = field(default_factory=list)
    json_output: bool = False
    approve: bool | None = None  # --approve yes/no; None: not given
    reveal: bool = False
    base_url: str | None = None
    api_key: str | None = None
    region: str | None = None
    profile: str | None = None
    debug: bool = False
    interactive: bool = True


def _model_flags(settings: ChatSettings) -> list[str]:
    flags = {"--model": settings.model, "--base-url": settings.base_url}
    flags |= {"--api-key": settings.api_key, "--region": settings.region}
    flags["--profile"] = settings.profile
    return [flag for flag, value in flags.items() if value]


def make_agent(settings: ChatSettings, doc: SessionFile) -> tuple[AgentLike, str]:
    """The agent to talk to, and the spec to record in the file.

    Options that would be silently ignored are refused instead: a model for a server's
    agent or for a custom agent function, an API key for Bedrock.
    """
    if settings.url:
        unused = (["AGENT"] if settings.agent else []) + _model_flags(settings)
        if unused:
            raise UsageError(
                f"--url chats with the server's own agent and model; drop {', '.join(unused)}"
            )
        from dcaf_cli.runtime.remote import RemoteAgent

        return RemoteAgent(settings.url), settings.url
    spec = settings.agent or doc.meta.get("agent") or DEFAULT_AGENT
    agent = load_agent(spec)
    if not isinstance(agent, Agent):
        if _model_flags(settings):
            raise UsageError(
                f"agent {spec!r} is a custom agent function, which uses no model; "
                f"drop {', '.join(_model_flags(settings))}"
            )
        return agent, spec
    # Agents are module-level objects: choosing a model (here or with /model) must not
    # change the module's agent for whoever loads it next in this process.
    agent = copy.copy(agent)
    model_spec = settings.model or dcaf_settings.default_model() or agent.model or "offline"
    if isinstance(model_spec, str):
        if model_spec.startswith("bedrock:") and settings.api_key:
            raise UsageError(
                "bedrock: models use AWS credentials, not --api-key",
                hint="use --profile, or the usual AWS environment",
            )
        from dcaf_cli.models import resolve_model

        options = ModelOptions(
            base_url=settings.base_url, api_key=settings.api_key,
            region=settings.region, profile=settings.profile,
        )  # fmt: skip
        agent.use_model(resolve_model(model_spec, options))
    return agent, spec


def open_conversation(settings: ChatSettings) -> Conversation:
    store: SessionStore | None = None
    if settings.session is not None:
        store = SessionStore(settings.session)
        doc = store.open()
    else:
        doc = new_session_file()
    try:
        agent, spec = make_agent(settings, doc)
    except BaseException:
        if store is not None:
            store.close()
        raise
    doc.meta["agent"] = spec
    doc.meta["model"] = agent.model_name
    conversation = Conversation(agent, doc, store)
    # An explicit `--approve no` wins over the file's standing approvals.
    conversation.honour_standing_approvals = settings.approve is not False
    return conversation


def start_chat(settings: ChatSettings) -> ExitStatus:
    conversation = open_conversation(settings)
    try:
        if settings.interactive:
            return _interactive(conversation, settings)
        lines = settings.messages or _stdin_lines()
        return run_script(conversation, lines, settings, Console(), Console(stderr=True))
    finally:
        conversation.close()


def _interactive(conversation: Conversation, settings: ChatSettings) -> ExitStatus:
    from prompt_toolkit.history import FileHistory

    from dcaf_cli.repl.app import Repl, make_prompt_session
    from dcaf_cli.settings import history_file

    history = history_file()
    history.parent.mkdir(parents=True, exist_ok=True)
    prompt = make_prompt_session(history=FileHistory(str(history)))
    Repl(conversation, prompt, Console(), reveal=settings.reveal, debug=settings.debug).run()
    return ExitStatus.OK


def _stdin_lines() -> Iterable[str]:
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


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
    settings: ChatSettings,
    out: Console,
    err: Console,
) -> ExitStatus:
    """One turn per line; stops at the first turn that fails, with its exit status."""
    script = _Script(conversation, settings, out, err)
    if conversation.doc.notice:  # e.g. a bare session object, written back in full format
        err.print(Text("dcaf: note: ") + literal(conversation.doc.notice), soft_wrap=True)
    for text in lines:
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
    return ExitStatus.OK


class _Script:
    """One scripted turn: JSON lines or the turn view on stdout, problems on stderr."""

    def __init__(
        self, conversation: Conversation, settings: ChatSettings, out: Console, err: Console
    ) -> None:
        from dcaf_cli.repl.view import TurnView

        self.conversation, self.settings, self.out, self.err = conversation, settings, out, err
        self.decide = AutoDecider(settings.approve, err, announce=settings.json_output)
        self.view = TurnView(
            out, conversation, reveal=settings.reveal, debug=settings.debug, err=err
        )

    def turn(self, text: str) -> TurnReport:
        from dcaf_cli.runtime.runner import run_sync

        if self.settings.json_output:
            report = run_sync(self.conversation.send(text, self.decide))
            line = json.dumps(report.to_json(reveal=self.settings.reveal), ensure_ascii=False)
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
        self.err.print(Text("dcaf: error: ") + literal(message), soft_wrap=True)


def _report_problems(report: TurnReport, err: Console) -> None:
    """--json keeps stdout for the JSON lines: errors and warnings go to stderr."""
    if report.secrets:
        err.print(render_secrets_warning(report.secrets), soft_wrap=True)
    problem = report.error or (str(report.save_error) if report.save_error else None)
    if problem:
        err.print(Text("dcaf: error: ") + literal(problem), soft_wrap=True)


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
