"""Build the real objects for `dcaf run` (store, agent, console, prompt) and run the chat,
interactive or scripted. The only place that constructs them: the loop itself takes them
as parameters."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from dcaf_cli.agent import Agent, AgentLike
from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import ExitStatus
from dcaf_cli.loader import DEFAULT_AGENT, load_agent
from dcaf_cli.models.base import ModelOptions
from dcaf_cli.results import Decision, PendingToolCall
from dcaf_cli.sessionfile import SessionFile, new_session_file
from dcaf_cli.store import SessionStore


@dataclass
class ChatSettings:
    agent: str | None = None
    session: Path | None = None
    model: str | None = None
    url: str | None = None
    messages: list[str] = field(default_factory=list)
    json_output: bool = False
    approve: bool = False
    reveal: bool = False
    base_url: str | None = None
    api_key: str | None = None
    debug: bool = False
    interactive: bool = True


def make_agent(settings: ChatSettings, doc: SessionFile) -> tuple[AgentLike, str]:
    """The agent to talk to, and the spec to record in the file."""
    if settings.url:
        from dcaf_cli.remote import RemoteAgent

        return RemoteAgent(settings.url), settings.url
    spec = settings.agent or doc.meta.get("agent") or DEFAULT_AGENT
    agent = load_agent(spec)
    if isinstance(agent, Agent) and (
        settings.model or settings.base_url or settings.api_key or agent.model is None
    ):
        from dcaf_cli.models import resolve_model

        options = ModelOptions(base_url=settings.base_url, api_key=settings.api_key)
        model_spec = settings.model or (agent.model if isinstance(agent.model, str) else "offline")
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
    return Conversation(agent, doc, store)


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

    from dcaf_cli.paths import history_file
    from dcaf_cli.repl.app import Repl, make_prompt_session

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

    def __init__(self, approve: bool, console: Console) -> None:
        self.approve = approve
        self.console = console

    async def __call__(self, pending: list[PendingToolCall]) -> list[Decision]:
        decisions = []
        for call in pending:
            if call.reason == "missing_arguments":
                reason = f"missing required argument(s) {', '.join(call.missing)}, and no terminal to ask"
                decisions.append(Decision(call.id, False, reason))
            elif self.approve:
                decisions.append(Decision(call.id, True))
            else:
                decisions.append(
                    Decision(call.id, False, "not approved (run with --approve yes to allow)")
                )
            verdict = "approved" if decisions[-1].approve else f"rejected: {decisions[-1].reason}"
            self.console.print(f"{call.name}: {verdict}", markup=False, highlight=False)
        return decisions


def run_script(
    conversation: Conversation,
    lines: Iterable[str],
    settings: ChatSettings,
    out: Console,
    err: Console,
) -> ExitStatus:
    """One turn per line; stops at the first turn that fails, with its exit status."""
    from dcaf_cli.repl.view import TurnView
    from dcaf_cli.runner import run_sync

    decide = AutoDecider(settings.approve, err)
    view = TurnView(out, conversation, reveal=settings.reveal, debug=settings.debug)
    for text in lines:
        if settings.json_output:
            report = run_sync(conversation.send(text, decide))
            out.file.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
            out.file.flush()
            _report_problems(report, err)
        else:
            printer = view.printer()
            report = run_sync(conversation.send(text, decide, printer))
            view.show_turn(report, printer)
        if not report.ok:
            return _status(report)
    return ExitStatus.OK


def _report_problems(report: TurnReport, err: Console) -> None:
    problem = report.error or (str(report.save_error) if report.save_error else None)
    if problem:
        err.print(f"dcaf: error: {problem}", markup=False, highlight=False)


def _status(report: TurnReport) -> ExitStatus:
    if report.save_error is not None:
        return report.save_error.exit_status
    return ExitStatus.ERROR
