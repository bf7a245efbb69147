"""The NDJSON stream of `/api/chat-stream` (and the events of `/api/chat-ws`): the
runtime's events as they happen, named as DCAF names them (see `protocol.events`).

Text streams as `text_delta`; a reply that did not stream (a custom agent function, a
model that answers at once) is sent as one `text_delta` before the end, so a client that
renders deltas shows it. A call that just ran is `executed_tool_calls`, or
`executed_approvals` when it was decided in `data.approvals`. A paused turn sends
`approvals` then `tool_calls`; a failed one `error`. `done` is last, with the whole
assistant message `/api/chat` would have answered (`data.session` included) in `message`.

The turn runs in a worker thread (see `service`); its event sink hands events to the loop
with `call_soon_threadsafe`, in order, and the thread's completion is queued after them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from dcaf_cli.protocol import events
from dcaf_cli.protocol.approvals import executed_approval_of
from dcaf_cli.protocol.events import encode
from dcaf_cli.runtime.results import TextDelta, ToolFinished, TurnEvent
from dcaf_cli.server.intake import ChatInput
from dcaf_cli.server.outgoing import as_sent, decided_as_approval
from dcaf_cli.server.service import ChatService, Reply

# Running turns: one whose client left finishes in the background, and the loop keeps only
# weak references to tasks.
_UNWATCHED: set[asyncio.Future[Reply]] = set()


def line(event: dict[str, Any]) -> bytes:
    try:
        return encode(event) + b"\n"
    except (TypeError, ValueError, RecursionError):
        return encode({"type": event["type"], "error": "not JSON data"}) + b"\n"


def live_event(event: TurnEvent, chat: ChatInput) -> dict[str, Any] | None:
    """The protocol event for a runtime event (None for those the protocol has no name
    for)."""
    if isinstance(event, TextDelta):
        return events.text_delta(event.text)
    if isinstance(event, ToolFinished):
        call = as_sent(event.call.to_wire(), chat.folded)
        if decided_as_approval(call, chat.folded):
            return events.executed([executed_approval_of(call)], approvals=True)
        return events.executed([call])
    return None


def closing_events(reply: Reply, streamed_text: bool) -> list[dict[str, Any]]:
    """What follows the live events, before `done`."""
    out: list[dict[str, Any]] = []
    content = reply.message.get("content")
    if not streamed_text and content and reply.error is None:
        out.append(events.text_delta(content))
    return out + events.closing(reply.message)


def done_line(reply: Reply) -> bytes:
    # `done` is spliced from the reply's bytes: a 100 KB session is not encoded twice.
    return events.done_head(reply.message) + reply.body + b"}\n"


class TurnEvents:
    """One turn's events, as they come: `async for event in TurnEvents(...)`; then
    `reply` is the answer."""

    def __init__(self, service: ChatService, chat: ChatInput) -> None:
        self.service, self.chat = service, chat
        self.reply: Reply | None = None
        self.streamed_text = False

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def sink(event: TurnEvent) -> None:  # runs in the turn's worker thread
            shown = live_event(event, self.chat)
            if shown is not None:
                with contextlib.suppress(RuntimeError):  # the loop is gone: nobody listens
                    loop.call_soon_threadsafe(queue.put_nowait, shown)

        task = asyncio.ensure_future(self.service.answer(self.chat, sink))
        _UNWATCHED.add(task)
        task.add_done_callback(_UNWATCHED.discard)
        task.add_done_callback(lambda _: queue.put_nowait(None))
        while (shown := await queue.get()) is not None:
            self.streamed_text = self.streamed_text or shown["type"] == "text_delta"
            yield shown
        self.reply = task.result()
        for closing in closing_events(self.reply, self.streamed_text):
            yield closing


async def stream_reply(service: ChatService, chat: ChatInput) -> AsyncIterator[bytes]:
    turn = TurnEvents(service, chat)
    async for event in turn:
        yield line(event)
    if turn.reply is not None:  # always, once the events are over
        yield done_line(turn.reply)
