"""Build the real objects for `dcaf run` (store, agent, console, prompt) and hand them to
the chat, interactive (`repl.app`) or scripted (`repl.scripted`). The only place that
constructs them: the loops themselves take them as parameters."""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from dcaf_cli import settings as dcaf_settings
from dcaf_cli.cli.console import make_console, print_note
from dcaf_cli.cli.context import META_KEY, merged_context
from dcaf_cli.cli.session_choice import Picker, chosen_file
from dcaf_cli.conversation import Conversation
from dcaf_cli.errors import ExitStatus, UsageError
from dcaf_cli.models.base import ModelOptions
from dcaf_cli.runtime.agent import Agent, AgentLike
from dcaf_cli.runtime.compat import agent_notes
from dcaf_cli.runtime.loader import DEFAULT_AGENT, load_agent
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.store.library import SessionLibrary
from dcaf_cli.store.sessionfile import SessionFile, new_session_file

if TYPE_CHECKING:
    from dcaf_cli.repl.switching import SessionSource


@dataclass
class ChatSettings:
    agent: str | None = None
    session: Path | None = None
    model: str | None = None
    url: str | None = None
    token: str | None = None
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
    context: list[str] = field(default_factory=list)  # KEY=VALUE
    context_file: Path | None = None
    record_model: Path | None = None
    continue_last: bool = False  # -c: the most recently used session (of `agent`)
    resume: str | None = None  # --resume NAME; "" asks which (a terminal's picker)
    no_save: bool = False  # --no-save: in memory only
    mcp: list[str] = field(default_factory=list)  # MCP servers: commands or URLs


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
        unused += ["--record-model"] if settings.record_model is not None else []
        unused += ["--mcp"] if settings.mcp else []
        if unused:
            raise UsageError(
                f"--url chats with the server's own agent and model; drop {', '.join(unused)}"
            )
        from dcaf_cli.runtime.remote import RemoteAgent

        return RemoteAgent(settings.url, token=settings.token), settings.url
    recorded = doc.meta.get("agent") if isinstance(doc.meta.get("agent"), str) else None
    if not settings.agent and recorded and recorded.startswith(("http://", "https://")):
        return make_agent(dataclasses.replace(settings, url=recorded), doc)
    if settings.token:
        raise UsageError("--token is the bearer token of a server: use it with --url")
    spec = settings.agent or recorded or DEFAULT_AGENT
    agent = load_agent(spec)
    if not isinstance(agent, Agent):
        if settings.record_model is not None:
            raise UsageError(
                f"agent {spec!r} is a custom agent function: it has no model replies to record"
            )
        if settings.mcp:
            raise UsageError(f"agent {spec!r} is not an Agent with tools; drop --mcp")
        if _model_flags(settings):
            raise UsageError(
                f"agent {spec!r} is a custom agent function, which uses no model; "
                f"drop {', '.join(_model_flags(settings))}"
            )
        return agent, spec
    # Agents are module-level objects: choosing a model (here or with /model) must not
    # change the module's agent for whoever loads it next in this process.
    agent = copy.copy(agent)
    add_mcp_servers(agent, settings.mcp)
    model_spec = (
        settings.model or dcaf_settings.default_model() or _recorded_model(doc) or agent.model
    ) or "offline"
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
    if settings.record_model is not None:
        from dcaf_cli.models.recording import RecordingModel

        agent.use_model(RecordingModel(agent.resolved_model(), settings.record_model))
    return agent, spec


def add_mcp_servers(agent: Agent, servers: list[str]) -> None:
    """`--mcp`: each server's tools join the agent's (the servers start on first need)."""
    if servers:
        from dcaf_cli.runtime.mcp import from_option

        for server in servers:
            agent.add_toolset(from_option(server))


def _recorded_model(doc: SessionFile) -> str | None:
    """The model the file was last used with, if it names one a local agent can use."""
    model = doc.meta.get("model")
    if not isinstance(model, str) or model.startswith(("remote:", "function:")):
        return None
    return model


def open_conversation(settings: ChatSettings, pick: Picker | None = None) -> Conversation:
    """The conversation `dcaf run` works on: the file named, continued or picked, a new
    file in the sessions folder, or (`--no-save`) none."""
    library = SessionLibrary(dcaf_settings.sessions_dir())
    path = chosen_file(settings, library, pick)
    store = SessionStore(path) if path is not None else None
    doc = store.open() if store is not None else new_session_file()
    try:
        agent, spec = make_agent(settings, doc)
        context = merged_context(doc.meta.get(META_KEY), settings.context_file, settings.context)
        if store is None and not settings.no_save:
            store = library.create(agent.name)[0]  # named from the agent: made after it
    except BaseException:
        if store is not None:
            store.close()
        raise
    doc.meta["agent"] = spec
    doc.meta["model"] = agent.model_name
    if context:
        doc.meta[META_KEY] = context
    from dcaf_cli.models.recording import RecordingModel

    model = getattr(agent, "model", None)
    log = model if isinstance(model, RecordingModel) else None
    conversation = Conversation(agent, doc, store, context=context, model_log=log)
    # An explicit `--approve no` wins over the file's standing approvals.
    conversation.honour_standing_approvals = settings.approve is not False
    return conversation


def start_chat(settings: ChatSettings) -> ExitStatus:
    pick = None
    if settings.interactive:
        from dcaf_cli.repl.picker import pick_session

        pick = pick_session
    conversation = open_conversation(settings, pick)
    for note in agent_notes(conversation.agent, conversation.doc.meta.get("agent", "")):
        print_note(note)
    if conversation.doc.notice and not settings.interactive:  # the REPL's banner says it
        print_note(conversation.doc.notice)
    try:
        if settings.interactive:
            return _interactive(conversation, settings)
        from dcaf_cli.repl.scripted import ScriptOptions, run_script

        lines = settings.messages or _stdin_lines()
        options = ScriptOptions(
            json_output=settings.json_output, approve=settings.approve,
            reveal=settings.reveal, debug=settings.debug,
            source="-m message" if settings.messages else "stdin line",
        )  # fmt: skip
        return run_script(conversation, lines, options, make_console(), make_console(stderr=True))
    finally:
        conversation.close()


def _interactive(conversation: Conversation, settings: ChatSettings) -> ExitStatus:
    from dcaf_cli.repl.app import Repl, make_prompt_session
    from dcaf_cli.repl.prompt_history import prompt_history
    from dcaf_cli.settings import history_file

    prompt = make_prompt_session(history=prompt_history(history_file(), print_note))
    repl = Repl(
        conversation, prompt, Console(), reveal=settings.reveal, debug=settings.debug,
        sessions=session_source(settings),
    )  # fmt: skip
    try:
        repl.run()
    finally:
        repl.conversation.close()  # after /switch, not the one it started with
    return ExitStatus.OK


def session_source(settings: ChatSettings) -> SessionSource:
    """The sessions folder for `/sessions`, and `/switch`'s way to open one of its files:
    with the agent and model recorded in it."""
    from dcaf_cli.repl.switching import SessionSource

    def reopen(path: Path) -> Conversation:
        return open_conversation(
            ChatSettings(session=path, reveal=settings.reveal, debug=settings.debug)
        )

    return SessionSource(SessionLibrary(dcaf_settings.sessions_dir()), reopen)


def _stdin_lines() -> Iterable[str]:
    # Undecodable bytes arrive as lone surrogates, which `run_script` refuses by line
    # number, rather than as a UnicodeDecodeError from the middle of the loop.
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="surrogateescape")
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")
