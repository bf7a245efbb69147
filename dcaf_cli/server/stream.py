"""The NDJSON stream of `/api/chat-stream`: the runtime's events as they happen.

One JSON object per line, named as the reference server names them:

    {"type": "text_delta", "text": "..."}                      model text, as it streams
    {"type": "executed_tool_calls", "executed_tool_calls": [...]}   a tool just finished
    {"type": "tool_calls", "tool_calls": [...]}                 calls waiting for approval
    {"type": "error", "error": "..."}                           the turn failed
    {"type": "done", "stop_reason": "...", "message": {...}}    always last

`done.message` is the whole assistant message `/api/chat` would return, `data.session`
included, so a streaming client gets the session too. The turn runs in a worker thread
(see `service`); its event sink hands lines to the loop with `call_soon_threadsafe`, in
order, and the thread's completion is queued after them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from dcaf_cli.runtime.results import ExecutedToolCall, TextDelta, ToolFinished, TurnEvent
from dcaf_cli.server.intake import ChatInput
from dcaf_cli.server.service import ChatService, Reply, encode

STOP_REASONS = {"error": "error", "paused": "tool_calls", "done": "end_turn"}
# Running turns: one whose client left finishes in the background, and the loop keeps only
# weak references to tasks.
_UNWATCHED: set[asyncio.Future[Reply]] = set()


def line(event: dict[str, object]) -> bytes:
    try:
        return encode(event) + b"\n"
    except (TypeError, ValueError, RecursionError):
        return encode({"type": event["type"], "error": "not JSON data"}) + b"\n"


def event_line(event: TurnEvent) -> bytes | None:
    """The NDJSON line for a runtime event (None for those the protocol has no name for)."""
    if isinstance(event, TextDelta):
        return line({"type": "text_delta", "text": event.text})
    if isinstance(event, ToolFinished):
        return executed_line([event.call])
    return None


def executed_line(calls: list[ExecutedToolCall]) -> bytes:
    return line(
        {"type": "executed_tool_calls", "executed_tool_calls": [c.to_wire() for c in calls]}
    )


def closing_lines(reply: Reply) -> list[bytes]:
    """What follows the live events: pending calls or the error, then `done`."""
    data = reply.message["data"]
    out: list[bytes] = []
    if reply.error is not None:
        out.append(line({"type": "error", "error": reply.error}))
        stop = STOP_REASONS["error"]
    elif data["tool_calls"]:
        out.append(line({"type": "tool_calls", "tool_calls": data["tool_calls"]}))
        stop = STOP_REASONS["paused"]
    else:
        stop = STOP_REASONS["done"]
    # `done` is spliced from the reply's bytes: a 100 KB session is not encoded twice.
    head = b'{"type":"done","stop_reason":"%s","meta_data":{},"message":' % stop.encode()
    out.append(head + reply.body + b"}\n")
    return out


async def stream_reply(service: ChatService, chat: ChatInput) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def sink(event: TurnEvent) -> None:  # runs in the turn's worker thread
        encoded = event_line(event)
        if encoded is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody listens
                loop.call_soon_threadsafe(queue.put_nowait, encoded)

    task = asyncio.ensure_future(service.answer(chat, sink))
    _UNWATCHED.add(task)
    task.add_done_callback(_UNWATCHED.discard)
    task.add_done_callback(lambda _: queue.put_nowait(None))
    while (encoded := await queue.get()) is not None:
        yield encoded
    for closing in closing_lines(task.result()):
        yield closing
