"""Agents: a model with tools (`Agent`), or your own function (`FunctionAgent`).

Both take HelpDesk-protocol messages and a session and return an `AgentResponse`;
`complete_turn` drives one whole user turn over either (or over a remote agent), asking
for approvals through a callback and rolling everything back if the turn fails.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from dcaf_cli.models.base import Model, ModelOptions
from dcaf_cli.protocol.wire import WireMessage, approved_calls, incoming_session, parse_messages
from dcaf_cli.runtime.interceptors import Interceptors, as_list
from dcaf_cli.runtime.platform import run_context
from dcaf_cli.runtime.recorded import recorded
from dcaf_cli.runtime.results import (
    AgentResponse,
    AgentResult,
    Decision,
    EventSink,
    ExecutedToolCall,
    PendingToolCall,
)
from dcaf_cli.runtime.runner import run_sync
from dcaf_cli.runtime.turn import Turn, TurnOptions, TurnSetup
from dcaf_cli.session.recorder import Recorder
from dcaf_cli.session.session import Session
from dcaf_cli.tools.tool import Tool, tool

Messages = Sequence[Mapping[str, Any] | WireMessage]
SessionLike = Session | Mapping[str, Any] | None


@runtime_checkable
class Toolset(Protocol):
    """Tools that come from elsewhere (an MCP server's): listed on first need, with the
    names already taken, so a clash is renamed."""

    def tools(self, taken: Iterable[str] = ()) -> list[Tool[..., Any]]: ...

    def close(self) -> None: ...


@runtime_checkable
class AgentLike(Protocol):
    """What the REPL, the CLI and the server drive: local agents and remote ones alike."""

    name: str

    @property
    def tools(self) -> list[Tool[..., Any]]: ...

    @property
    def model_name(self) -> str: ...

    async def arun(
        self,
        messages: Messages,
        *,
        session: SessionLike = None,
        context: Mapping[str, Any] | None = None,
        on_event: EventSink | None = None,
        options: TurnOptions | None = None,
    ) -> AgentResponse: ...


def session_for(session: SessionLike, wire: list[WireMessage]) -> Session:
    """The session a turn runs on: the given Session itself, a copy of a given dict, or a
    copy of the messages' `data.session`."""
    if isinstance(session, Session):
        return session
    if session is not None:
        return Session.from_dict(session)
    return Session.from_dict(incoming_session(wire) or {})


class _LocalAgent:
    """What local agents share: `arun` reads the messages and finds the session, then the
    subclass runs the turn; `run` and `chat` are its synchronous faces."""

    async def arun(
        self,
        messages: Messages,
        *,
        session: SessionLike = None,
        context: Mapping[str, Any] | None = None,
        on_event: EventSink | None = None,
        options: TurnOptions | None = None,
    ) -> AgentResponse:
        """Run one turn over HelpDesk-protocol `messages` with `session` (a Session is
        changed in place; a dict, or by default the messages' `data.session`, is copied)."""
        wire = parse_messages(messages)
        live = session_for(session, wire)
        return await self._turn(wire, live, run_context(context, wire), on_event, options)

    async def _turn(
        self,
        wire: list[WireMessage],
        live: Session,
        context: dict[str, Any],
        on_event: EventSink | None,
        options: TurnOptions | None,
    ) -> AgentResponse:
        raise NotImplementedError

    def run(
        self, messages: Messages, *, session: SessionLike = None, **kwargs: Any
    ) -> AgentResponse:
        """Run one turn (synchronously); the response carries text, session and tool calls."""
        return run_sync(self.arun(messages, session=session, **kwargs))

    def chat(
        self, messages: Messages, *, session: SessionLike = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run one turn and return the HelpDesk-protocol assistant message."""
        return self.run(messages, session=session, **kwargs).to_message()


class Agent(_LocalAgent):
    """A model that can call tools. `model` is a spec (`"offline"`, `"openai:gpt-4o-mini"`)
    or a `Model`; plain functions in `tools` are made tools with `@tool`."""

    def __init__(
        self,
        tools: Sequence[Tool[..., Any] | Callable[..., Any] | Toolset] = (),
        model: str | Model | None = None,
        system_prompt: str = "",
        request_interceptors: Interceptors = None,
        response_interceptors: Interceptors = None,
        *,
        name: str = "agent",
        max_rounds: int = 10,
        model_options: ModelOptions | None = None,
    ) -> None:
        self._toolsets = [t for t in tools if isinstance(t, Toolset) and not isinstance(t, Tool)]
        self._tools = [
            t if isinstance(t, Tool) else tool(t)  # type: ignore[arg-type]
            for t in tools
            if t not in self._toolsets
        ]
        self._expanded: list[Tool[..., Any]] | None = None
        names = [t.name for t in self._tools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"two tools share the name {duplicates[0]!r}; give one `@tool(name=...)`"
            )
        self.model = model
        self.system_prompt = system_prompt
        self.request_interceptors = as_list(request_interceptors)
        self.response_interceptors = as_list(response_interceptors)
        self.name = name
        self.max_rounds = max_rounds
        self.model_options = model_options or ModelOptions()  # the agent's own region, key...
        self._resolved: Model | None = model if isinstance(model, Model) else None

    @property
    def tools(self) -> list[Tool[..., Any]]:
        """The agent's own tools, then its toolsets' (which start on first need)."""
        if self._expanded is None:
            found = list(self._tools)
            for toolset in self._toolsets:
                found += toolset.tools([t.name for t in found])
            self._expanded = found
        return list(self._expanded)

    def add_toolset(self, toolset: Toolset) -> None:
        """Add tools from elsewhere (`--mcp`); a copied agent leaves the original as it was."""
        self._toolsets = [*self._toolsets, toolset]
        self._expanded = None

    def close(self) -> None:
        """Stop what the toolsets started (MCP servers)."""
        for toolset in self._toolsets:
            toolset.close()

    @property
    def model_name(self) -> str:
        if self._resolved is not None:
            return self._resolved.name
        return self.model if isinstance(self.model, str) else "offline"

    def use_model(self, model: str | Model) -> None:
        """Switch models (the CLI's `--model` and `/model`)."""
        self.model = model
        self._resolved = model if isinstance(model, Model) else None

    def resolved_model(self) -> Model:
        if self._resolved is None:
            from dcaf_cli.models import resolve_model

            spec = self.model if isinstance(self.model, str) else "offline"
            self._resolved = resolve_model(spec, self.model_options)
        return self._resolved

    def system_for(self, context: Mapping[str, Any]) -> str:
        """The system prompt of a run with this context."""
        return self.system_prompt

    async def _turn(
        self,
        wire: list[WireMessage],
        live: Session,
        context: dict[str, Any],
        on_event: EventSink | None,
        options: TurnOptions | None,
    ) -> AgentResponse:
        setup = TurnSetup(
            {t.name: t for t in self.tools},
            self.resolved_model(),
            self.system_for(context),
            self.request_interceptors,
            self.response_interceptors,
        )
        opts = options or TurnOptions(max_rounds=self.max_rounds)
        return await Turn(setup, live, context, on_event, opts).run(wire)


AgentFunction = Callable[..., AgentResult | str | Awaitable[AgentResult | str]]


class FunctionAgent(_LocalAgent):
    """A custom agent function `(messages, context)` or `(messages, context, session)`
    returning an `AgentResult` or a string, run like any agent."""

    def __init__(self, fn: AgentFunction, *, name: str | None = None) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", "agent"))
        params = list(inspect.signature(fn).parameters)
        self.wants_session = len(params) >= 3 or "session" in params

    @property
    def tools(self) -> list[Tool[..., Any]]:
        return []

    @property
    def model_name(self) -> str:
        return f"function:{self.name}"

    async def _turn(
        self,
        wire: list[WireMessage],
        live: Session,
        context: dict[str, Any],
        on_event: EventSink | None,
        options: TurnOptions | None,
    ) -> AgentResponse:
        plain = [_function_view(m, with_session=not self.wants_session) for m in wire]
        approved = approved_calls(wire)
        if approved:  # as DCAF passes them; over HTTP only calls the server proposed
            context = {**context, "approved_tool_calls": approved}
        args: tuple[Any, ...] = (plain, context, live) if self.wants_session else (plain, context)

        async def call() -> AgentResponse:
            result = self.fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return self._response(result, live)

        return await recorded(live, call, diff=options.diff if options is not None else True)

    def _response(self, result: object, live: Session) -> AgentResponse:
        if isinstance(result, str):
            return AgentResponse(result, live)
        if isinstance(result, AgentResult):
            if result.session is not None:
                live.replace_all(result.session)
            pending = [_pending(p) for p in result.pending_tools]
            return AgentResponse(
                result.text, live, pending_tool_calls=pending, data=dict(result.data)
            )
        raise TypeError(
            f"agent function {self.name} returned {type(result).__name__}; "
            "return AgentResult or str"
        )


def _function_view(message: WireMessage, *, with_session: bool) -> dict[str, Any]:
    """A message as a custom function gets it: `role` and `content` always, as DCAF hands
    them over; the rest when set. `data.session` only `with_session`, for a function
    without a `session` parameter, which has no other way to read it: for the others the
    session is `session` (a second copy would go stale as the function changes it, and
    making one costs as much as parsing it did)."""
    view = {"role": message.role, "content": message.content}
    view.update(
        message.model_dump(exclude_defaults=True, exclude=None if with_session else _NO_SESSION)
    )
    if not view.get("data", True):  # it held the session only
        del view["data"]
    return view


_NO_SESSION = {"data": {"session"}}


def _pending(call: Any) -> PendingToolCall:
    """A call a function proposes: a PendingToolCall, or one shaped like DCAF's."""
    if isinstance(call, PendingToolCall):
        return call
    get = (
        call.get
        if isinstance(call, Mapping)
        else lambda name, default=None: getattr(call, name, default)
    )
    return PendingToolCall(
        str(get("id")), str(get("name")), dict(get("input") or {}), str(get("description") or "")
    )


# -- one whole user turn ---------------------------------------------------------------

Decide = Callable[[list[PendingToolCall]], Awaitable[list[Decision]]]


@dataclass(slots=True)
class TurnOutcome:
    """A whole user turn: every part of it, merged, with the messages it added."""

    response: AgentResponse
    executed: list[ExecutedToolCall] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def decisions_message(pending: list[PendingToolCall], decisions: list[Decision]) -> dict[str, Any]:
    by_id = {d.id: d for d in decisions}
    calls = [
        by_id[p.id].to_wire(p) if p.id in by_id else Decision(p.id, False).to_wire(p)
        for p in pending
    ]
    return {"role": "user", "content": "", "data": {"tool_calls": calls}}


async def complete_turn(
    agent: AgentLike,
    history: Messages,
    user_message: dict[str, Any],
    session: Session,
    decide: Decide,
    *,
    context: Mapping[str, Any] | None = None,
    on_event: EventSink | None = None,
    options: TurnOptions | None = None,
) -> TurnOutcome:
    """Run a user turn to its end, asking `decide` whenever it pauses.

    All or nothing: if any part fails or is cancelled, the session is as it was before.
    """
    added = [user_message]
    executed: list[ExecutedToolCall] = []
    # The parts of a paused turn record inside this recorder, which diffs the whole turn once.
    with Recorder(session) as recorder:
        response = await agent.arun(
            [*history, *added], session=session, context=context, on_event=on_event, options=options
        )
        while response.is_paused and response.error is None:
            executed += response.executed_tool_calls
            decisions = await decide(response.pending_tool_calls)
            added += [
                response.to_message(include_session=False),
                decisions_message(response.pending_tool_calls, decisions),
            ]
            if response.resume is not None:  # a local agent: it carries on in memory
                response = await response.resume(decisions)
                continue
            response = await agent.arun(
                [*history, *added],
                session=session,
                context=context,
                on_event=on_event,
                options=options,
            )
        executed += response.executed_tool_calls
        if response.error is not None:
            recorder.rollback()
            response.changes = []
            return TurnOutcome(response, executed, [])
        response.changes = recorder.commit()
    final = response.to_message(include_session=False)
    final["data"]["executed_tool_calls"] = [c.to_wire() for c in executed]
    added.append(final)
    return TurnOutcome(response, executed, added)
