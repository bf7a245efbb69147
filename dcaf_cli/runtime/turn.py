"""One turn: the model picks tools, the tools run with the session injected, and the
model replies — or the turn pauses for the user, or fails and leaves no trace.

The whole turn is a transaction on the session: an error or a cancellation (Ctrl-C)
rolls back every change the turn made, while each tool call is a transaction of its own,
so a failing tool undoes only itself and its error goes back to the model as its result.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcaf_cli.errors import ModelError, UsageError
from dcaf_cli.models.base import NOT_RUN, Message, Model, ModelRequest, ToolCall
from dcaf_cli.protocol.wire import (
    WireMessage,
    WireToolCall,
    executed_as_messages,
    pending_decisions,
    to_model_messages,
)
from dcaf_cli.runtime.execution import execute_call, result_message
from dcaf_cli.runtime.interceptors import (
    InterceptorError,
    LLMRequest,
    LLMResponse,
    apply_interceptors,
    call_dicts,
    calls_from_dicts,
    intercept_request,
)
from dcaf_cli.runtime.recorded import recorded
from dcaf_cli.runtime.results import (
    AgentResponse,
    Decision,
    EventSink,
    ExecutedToolCall,
    ModelRound,
    PendingToolCall,
    TextDelta,
    ToolFinished,
)
from dcaf_cli.session.session import Session
from dcaf_cli.tools.slashcall import parse_slash_call, split_slash
from dcaf_cli.tools.tool import Tool


@dataclass(frozen=True, slots=True)
class TurnOptions:
    max_rounds: int = 10
    allow_edits: bool = True  # may a decision change a call's arguments? (not over HTTP)
    always_approve: frozenset[str] = frozenset()  # tools the user approved for good
    diff: bool = True  # list the session's changes (`AgentResponse.changes`)? not over HTTP


@dataclass(slots=True)
class TurnSetup:
    """What a turn needs from its agent."""

    tools: Mapping[str, Tool[..., Any]]
    model: Model
    system_prompt: str = ""
    request_interceptors: Sequence[Any] = ()
    response_interceptors: Sequence[Any] = ()


@dataclass
class Turn:
    setup: TurnSetup
    session: Session
    context: dict[str, Any]
    sink: EventSink | None = None
    options: TurnOptions = field(default_factory=TurnOptions)
    executed: list[ExecutedToolCall] = field(default_factory=list)
    usage: Counter[str] = field(default_factory=Counter)
    _ids: set[str] = field(default_factory=set)

    async def run(self, wire: list[WireMessage]) -> AgentResponse:
        return await self._recorded(lambda: self._drive(wire))

    async def _recorded(self, step: Callable[[], Awaitable[AgentResponse]]) -> AgentResponse:
        async def blockable() -> AgentResponse:
            try:
                return await step()
            except InterceptorError as exc:  # a refusal, not a failure: changes are kept
                response = self._response(exc.user_message)
                response.blocked = True
                return response

        response = await recorded(self.session, blockable, diff=self.options.diff)
        response.usage = dict(self.usage)
        return response

    # -- the steps ---------------------------------------------------------------------

    async def _drive(self, wire: list[WireMessage]) -> AgentResponse:
        decisions = pending_decisions(wire)
        if decisions:
            return await self._resume(wire, decisions)
        direct = self._direct_call(wire[-1]) if wire else None
        if direct is not None:
            # A call the user typed: no model reads the conversation, so it is not converted.
            pending = await self._run_calls([direct], [], ask_missing=True)
            response = self._paused(self._outputs(), pending, [], direct=True)
            response.data["direct"] = True
            return response
        return await self._loop(to_model_messages(wire))

    async def _loop(self, history: list[Message]) -> AgentResponse:
        system, specs, history, self.context = await intercept_request(
            self.setup.request_interceptors,
            LLMRequest([], list(self.setup.tools.values()), self.setup.system_prompt or None,
                       self.context, self.session),
            history,
        )  # fmt: skip
        for n in range(1, self.options.max_rounds + 1):
            if self.sink is not None:
                self.sink(ModelRound(n))
            reply = await self.setup.model.complete(
                ModelRequest(system, list(history), specs), self._on_text
            )
            if reply.usage is not None:
                self.usage.update(reply.usage.as_dict())
            # This reply's usage, not the turn's running total: interceptors written as
            # DCAF's `track_response_metrics` example add it up themselves.
            usage = reply.usage.as_dict() if reply.usage is not None else None
            response = await apply_interceptors(
                self.setup.response_interceptors,
                LLMResponse(
                    reply.text,
                    call_dicts(reply.tool_calls),
                    usage,
                    reply,
                    self.session,
                    self.context,
                ),
            )
            if not response.tool_calls:
                return self._response(response.text)
            calls = [self._unique(c) for c in calls_from_dicts(response.tool_calls)]
            history.append(Message("assistant", response.text, tool_calls=calls))
            pending = await self._run_calls(calls, history, ask_missing=reply.ask_missing)
            if pending:
                return self._paused(response.text, pending, history)
        raise ModelError(
            f"the model called tools for {self.options.max_rounds} rounds without replying; "
            "the turn was rolled back"
        )

    async def _run_calls(
        self, calls: list[ToolCall], history: list[Message], *, ask_missing: bool
    ) -> list[PendingToolCall]:
        pending: list[PendingToolCall] = []
        for call in calls:
            tool = self.setup.tools.get(call.name)
            if tool is not None and ask_missing and tool.missing(call.arguments):
                missing = tool.missing(call.arguments)
                pending.append(
                    PendingToolCall(
                        call.id,
                        call.name,
                        call.arguments,
                        tool.description,
                        "missing_arguments",
                        missing,
                    )
                )
            elif (
                tool is not None
                and tool.requires_approval
                and tool.name not in self.options.always_approve
            ):
                pending.append(
                    PendingToolCall(call.id, call.name, call.arguments, tool.description)
                )
            else:
                await self._execute(call, history)
        return pending

    async def _execute(self, call: ToolCall, history: list[Message]) -> None:
        tool = self.setup.tools.get(call.name)
        record = await execute_call(call, tool, self.session, self.sink, self.context)
        self.executed.append(record)
        history.append(result_message(record))

    def _paused(
        self,
        text: str,
        pending: list[PendingToolCall],
        history: list[Message],
        *,
        direct: bool = False,
    ) -> AgentResponse:
        response = self._response(text, pending)
        if pending:
            response.resume = functools.partial(self._resumed, pending, history, direct)
        return response

    async def _resumed(
        self,
        pending: list[PendingToolCall],
        history: list[Message],
        direct: bool,
        decisions: list[Decision],
    ) -> AgentResponse:
        """Carry the paused turn on in memory after the user's decisions: a local agent
        resumes from where it stopped, without writing wire messages and parsing them
        back. The part after the pause is a turn part of its own, like a resumed request."""
        part = Turn(self.setup, self.session, self.context, self.sink, self.options)
        part._ids = set(self._ids)
        by_id = {d.id: d for d in decisions}

        async def carry_on() -> AgentResponse:
            steps = list(history)
            for call in pending:
                decision = by_id.get(call.id)
                arguments = None
                if decision is not None and decision.approve:
                    arguments = call.input if decision.input is None else decision.input
                reason = (decision.reason if decision else None) or "rejected by the user"
                await part._settle(
                    ToolCall(call.id, call.name, call.input), arguments, reason, steps
                )
            return part._response(part._outputs()) if direct else await part._loop(steps)

        return await part._recorded(carry_on)

    async def _resume(
        self, wire: list[WireMessage], decisions: list[WireToolCall]
    ) -> AgentResponse:
        """Resume from wire messages: the paused reply, then the decisions (over HTTP)."""
        paused = wire[-2] if len(wire) >= 2 and wire[-2].role == "assistant" else None
        if paused is None or not paused.data.tool_calls:
            raise UsageError(
                "the message carries tool-call decisions, but no call is waiting for one"
            )
        history = to_model_messages(wire[:-2])
        history += executed_as_messages(paused.data.executed_tool_calls, paused.data.tool_calls)
        self._ids.update(c.id for c in paused.data.tool_calls)
        by_id = {d.id: d for d in decisions}
        for proposed in paused.data.tool_calls:
            decision = by_id.get(proposed.id)
            if decision is not None and decision.name != proposed.name:
                raise UsageError(
                    f"the decision for call {proposed.id} names {decision.name!r},"
                    f" not {proposed.name!r}"
                )
            arguments = decision.input if decision is not None and decision.execute else None
            reason = (decision.rejection_reason if decision else None) or "no decision was given"
            call = ToolCall(proposed.id, proposed.name, proposed.input)
            await self._settle(call, arguments, reason, history)
        if (paused.model_extra or {}).get("direct") or (paused.data.model_extra or {}).get(
            "direct"
        ):
            return self._response(self._outputs())
        return await self._loop(history)

    async def _settle(
        self,
        proposed: ToolCall,
        arguments: dict[str, Any] | None,
        reason: str,
        history: list[Message],
    ) -> None:
        """Run a call the user approved (`arguments`, perhaps edited), or record why not."""
        if arguments is not None:
            if arguments != proposed.arguments and not self.options.allow_edits:
                raise UsageError(
                    f"the decision for {proposed.name} ({proposed.id}) changes its arguments"
                )
            await self._execute(ToolCall(proposed.id, proposed.name, arguments), history)
            return
        record = ExecutedToolCall(
            proposed.id,
            proposed.name,
            proposed.arguments,
            NOT_RUN + reason,
            error=f"rejected: {reason}",
        )
        self.executed.append(record)
        history.append(result_message(record))
        if self.sink is not None:  # shown like any other call, as one that did not run
            self.sink(ToolFinished(record))

    # -- helpers -----------------------------------------------------------------------

    def _direct_call(self, last: WireMessage) -> ToolCall | None:
        parts = split_slash(last.content) if last.role == "user" else None
        tool = self.setup.tools.get(parts[0]) if parts else None
        if tool is None:
            return None
        types = {p.name: p.json_type for p in tool.params}
        call = parse_slash_call(last.content, types, open_keys=tool.accepts_extra)
        if not tool.missing(call.arguments):
            # A typo in a call the user typed is theirs, not a result for a model to read:
            # the turn fails (nothing recorded) with the problem in one line.
            tool.validate(call.arguments)
        return self._unique(ToolCall("direct-1", tool.name, call.arguments))

    def _unique(self, call: ToolCall) -> ToolCall:
        base, n = call.id or "call", 1
        while call.id in self._ids or not call.id:
            n += 1
            call = ToolCall(f"{base}-{n}", call.name, call.arguments)
        self._ids.add(call.id)
        return call

    def _on_text(self, text: str) -> None:
        if self.sink is not None:
            self.sink(TextDelta(text))

    def _outputs(self) -> str:
        return "\n".join(c.output for c in self.executed)

    def _response(self, text: str, pending: list[PendingToolCall] | None = None) -> AgentResponse:
        return AgentResponse(
            text, self.session, list(self.executed), pending or [], usage=dict(self.usage)
        )
