"""One chat request, start to end: check it, run the turn, answer.

Why not simply `await agent.arun(...)` on the server's loop: tools,
custom agent functions, interceptors and some provider SDKs (boto3) are synchronous, and
the runtime calls sync tools directly, so awaiting `arun` on the loop would let one slow
tool stall every other request of the worker. So a turn runs on the server's loop only
while the agent's turns have shown they never block it, and on a worker thread's own loop
otherwise (see `turns`).

The server keeps no session state: the session comes in with the request and goes back
in the reply. If the turn fails, the reply carries `data.error` and the incoming session
unchanged, never a half-applied one. The one thing remembered is which proposals were
already decided (see `ledger`): `prepare` records a request's decisions before its turn
runs, and refuses (403) one already used.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import anyio.to_thread

from dcaf_cli.protocol.events import encode
from dcaf_cli.protocol.signing import SESSION_USED, Claim, Proposal, Signer, digest
from dcaf_cli.runtime.agent import AgentLike, FunctionAgent
from dcaf_cli.runtime.results import AgentResponse, EventSink
from dcaf_cli.runtime.turn import TurnOptions
from dcaf_cli.server.approvals import check_decisions
from dcaf_cli.server.intake import ChatInput, HTTPProblem, parse_chat, read_limited
from dcaf_cli.server.jsonbody import parse_json
from dcaf_cli.server.ledger import Ledger, MemoryLedger
from dcaf_cli.server.limits import DEFAULT_LIMITS, Limits
from dcaf_cli.server.outgoing import dress, input_descriptions
from dcaf_cli.server.turns import TurnPlace
from dcaf_cli.session.text import exception_line

NO_MESSAGES = "No messages provided"  # DCAF's answer to `{"messages": []}`


@dataclass(slots=True)
class Reply:
    """The assistant message, and its JSON encoding (known to encode)."""

    message: dict[str, Any]
    body: bytes

    @property
    def error(self) -> str | None:
        error = self.message["data"].get("error")
        return None if error is None else str(error)


class ChatService:
    def __init__(
        self,
        agent: AgentLike,
        signer: Signer,
        limits: Limits = DEFAULT_LIMITS,
        ledger: Ledger | None = None,
    ) -> None:
        self.agent = agent
        self.signer = signer
        self.limits = limits
        self.ledger: Ledger = ledger if ledger is not None else MemoryLedger()
        # Requests in progress (parsed, checked, their turn running): each may hold a
        # body's worth of objects, so a flood waits here instead of multiplying that
        # memory. Bodies are read before taking a slot, so clients that send slowly do
        # not hold one; how many are read at once is bounded too (raw bytes only).
        self.slots = anyio.Semaphore(limits.concurrent)
        self.reading = anyio.Semaphore(limits.concurrent * 8)
        self.options = TurnOptions(
            max_rounds=int(getattr(agent, "max_rounds", 10)), allow_edits=False, diff=False
        )  # the reply carries the session, not its diff: none is computed
        self._descriptions = input_descriptions(agent.tools)
        self.place = TurnPlace()  # on the loop while turns are quick, else on threads

    @property
    def max_body_bytes(self) -> int:
        return self.limits.body_bytes

    async def prepare(
        self, body: Any, content_length: str | None, *, hold: bool = False
    ) -> ChatInput:
        """Read and check a request; HTTPProblem (4xx) before any agent code runs.

        Parsing and checking take one of `slots`. With `hold`, a request that passes keeps
        it: the caller releases it when the turn has ended."""
        limits = self.limits
        await take(self.reading)
        try:
            raw = await read_limited(body, content_length, limits.body_bytes, limits.body_seconds)
        finally:
            self.reading.release()
        await take(self.slots)
        try:
            chat = await self._check(raw)
        except BaseException:
            self.slots.release()
            raise
        if not hold:
            self.slots.release()
        return chat

    async def _check(self, raw: bytes) -> ChatInput:
        chat = parse_chat(parse_json(raw, self.limits), self.limits.text_chars)
        signature = chat.session_signature
        problem = self.signer.session_problem(chat.session, signature)
        if problem is not None:
            raise HTTPProblem(403, problem)
        claims = check_decisions(chat.messages, chat.session, self.signer)
        fresh = self.signer.session_claim(chat.session, signature)
        if claims or fresh is not None:  # recorded before the turn: of two identical, one runs
            await self._claim([*claims, *([fresh] if fresh is not None else [])])
        return chat

    async def _claim(self, claims: list[Claim]) -> None:
        entries = {claim.key: claim.until for claim in claims}
        try:
            used = set(await anyio.to_thread.run_sync(self.ledger.claim, entries))
        except Exception as exc:  # fail closed: what cannot be recorded does not run
            why = exception_line(exc)
            message = f"the approval ledger failed, so nothing ran; try again: {why}"
            raise HTTPProblem(503, message) from None
        refused = [claim for claim in claims if claim.key in used]
        if refused:
            status = 409 if refused[0].refusal == SESSION_USED else 403
            raise HTTPProblem(status, refused[0].refusal)

    async def answer(self, chat: ChatInput, on_event: EventSink | None = None) -> Reply:
        """Run the turn in a worker thread; never raises for what the agent does."""
        if not chat.messages:
            return self.failure(chat, NO_MESSAGES, content=f"{NO_MESSAGES}.")
        try:
            response = await self.place.run(partial(self._turn, chat, on_event))
        except Exception as exc:
            return self.failure(chat, exception_line(exc))
        if response.error is not None:
            return self.failure(chat, response.error)
        try:
            message = self._message(chat, response)
            return Reply(message, encode(message))
        except (TypeError, ValueError, RecursionError) as exc:
            return self.failure(chat, f"the agent's reply is not JSON data: {exception_line(exc)}")

    def failure(self, chat: ChatInput, error: str, *, content: str | None = None) -> Reply:
        """An error reply carrying the session exactly as it came in; its content says
        `Error: ...` as DCAF's does, `data.error` says the same for our clients."""
        data: dict[str, Any] = {
            "session": chat.session,
            "tool_calls": [],
            "executed_tool_calls": [],
            "approvals": [],
            "executed_approvals": [],
            "error": error,
        }
        self._sign_session(data)
        text = f"Error: {error}" if content is None else content
        message = {"role": "assistant", "content": text, "data": data}
        message["meta_data"] = _meta(chat)
        return Reply(message, encode(message))

    def context_for(self, chat: ChatInput) -> dict[str, Any]:
        """The agent's `context`, as DCAF gives it: an agent with tools gets the request's
        top-level fields, a custom function none of them. Both then get the last user
        message's `platform_context` on top (`run_context`), and a function the calls
        the latest message approves (`FunctionAgent`; `prepare` let through only those
        this server proposed)."""
        return {} if isinstance(self.agent, FunctionAgent) else dict(chat.context)

    def _turn(
        self, chat: ChatInput, on_event: EventSink | None
    ) -> Coroutine[Any, Any, AgentResponse]:
        return self.agent.arun(
            chat.messages,
            session=chat.live,
            context=self.context_for(chat),
            on_event=on_event,
            options=self.options,
        )

    def _message(self, chat: ChatInput, response: AgentResponse) -> dict[str, Any]:
        # The turn is over: its session is encoded as it is, not copied first.
        session = response.live_session.data_view()
        session_digest = digest(session) if response.pending_tool_calls else ""
        for call in response.pending_tool_calls:
            proposal = Proposal(call.id, call.name, call.reason, call.input, session_digest)
            call.signature = self.signer.sign_proposal(proposal)
        message = response.to_message(include_session=False)
        dress(message, chat.folded, self._descriptions)
        message["data"]["session"] = session
        self._sign_session(message["data"])
        message["meta_data"] = _meta(chat)
        return message

    def _sign_session(self, data: dict[str, Any]) -> None:
        signature = self.signer.sign_session(data["session"])
        if signature is not None:
            data["session_signature"] = signature


async def take(semaphore: anyio.Semaphore) -> None:
    """Acquire `semaphore`, without a trip through the event loop when it is free (anyio's
    `acquire` always makes one); a release hands it to a waiter first, so none is passed."""
    try:
        semaphore.acquire_nowait()
    except anyio.WouldBlock:
        await semaphore.acquire()


def _meta(chat: ChatInput) -> dict[str, Any]:
    """`meta_data`: the request's top-level fields echoed back, as DCAF does, so a client
    can tell which request an answer is for."""
    return {"request_context": chat.context} if chat.context else {}
