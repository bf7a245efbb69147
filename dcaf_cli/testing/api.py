"""`replay()`: the Python face of replay, for tests that assert on a report."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable

from dcaf_cli.models.base import ModelOptions
from dcaf_cli.runtime.agent import Agent, AgentLike
from dcaf_cli.store.filestore import read_session_file
from dcaf_cli.store.sessionfile import SessionFile
from dcaf_cli.testing.compare import parse_ignore
from dcaf_cli.testing.replayer import Mode, Progress, ReplayOptions, ReplayReport, replay_file


def replay(
    path: str | os.PathLike[str],
    agent: str | AgentLike | None = None,
    *,
    model: str | None = None,
    turns: tuple[int, int] | None = None,
    ignore: Iterable[str] = (),
    loose_args: bool = False,
    stop_at_first: bool = False,
    on_turn: Progress | None = None,
) -> ReplayReport:
    """Replay the session file at `path` and return the report (it never raises for a
    divergence: assert on `report.ok`).

    `agent` is an agent object or spec (default: the agent the file recorded). Without
    `model` the recorded tool calls run again (no model, deterministic); with `model`
    (`"offline"`, `"script:FILE"`, a provider) the recorded user messages are sent again.
    """
    doc = read_session_file(path)
    live, name = agent_for(doc, agent, model)
    mode: Mode = "model" if model is not None else "tools"
    options = ReplayOptions(
        mode=mode,
        turns=turns,
        ignore=tuple(parse_ignore(ignore)),
        loose_args=loose_args,
        stop_at_first=stop_at_first,
    )
    return replay_file(
        doc, live, source=os.fspath(path), agent_name=name, options=options, on_turn=on_turn
    )


def agent_for(
    doc: SessionFile,
    agent: str | AgentLike | None,
    model: str | None,
    options: ModelOptions | None = None,
) -> tuple[AgentLike, str]:
    """The agent to replay against (given, or the one the file recorded) and its name, with
    `model` chosen on a copy (the module's own agent object is never changed)."""
    from dcaf_cli.errors import UsageError
    from dcaf_cli.runtime.loader import DEFAULT_AGENT, load_agent

    if agent is None or isinstance(agent, str):
        spec = agent or doc.meta.get("agent") or DEFAULT_AGENT
        if not isinstance(spec, str):
            raise UsageError("the file's meta.agent is not a name; give the agent to replay")
        if spec.startswith(("http://", "https://")):
            raise UsageError(
                f"the file was recorded against a server ({spec}); replay runs local agents",
                hint="give the agent file or module as AGENT",
            )
        live, name = load_agent(spec), spec
    else:
        live, name = agent, getattr(agent, "name", None) or type(agent).__name__
    if model is not None and isinstance(live, Agent):
        from dcaf_cli.models import resolve_model

        live = copy.copy(live)
        live.use_model(resolve_model(model, options or ModelOptions()))
    return live, name
