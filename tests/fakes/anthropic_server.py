"""A scripted Anthropic Messages API server on 127.0.0.1, for tests.

Queue the replies the "model" should give, point the SDK at `server.url`, and read back
what it was sent::

    with FakeAnthropicServer() as server:
        server.queue(Reply.use("add_to_cart", {"item": "Widget"}), Reply.say("Done", "!"))
        model = resolve_model("anthropic:fake", ModelOptions(base_url=server.url, api_key="k"))
        ...
        assert server.bodies[1]["messages"][-1]["content"][0]["type"] == "tool_result"

Each POST to `/v1/messages` takes the next queued reply and answers with the wire format's
Server-Sent Events (message_start, content_block_start/delta/stop, message_delta with
usage, message_stop, and a ping). With nothing queued it answers 500. Responses are
HTTP/1.0, so the connection closes after each and shutdown stays clean.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from fakes.httpd import ScriptedHandler, ScriptedServer, split

MESSAGES_PATH = "/v1/messages"
Event = tuple[str, dict[str, Any]]


@dataclass
class FakeToolUse:
    """A tool_use block; its input JSON streams in `fragments` input_json_delta pieces."""

    name: str
    input: dict[str, Any] | str  # a str is sent as is (to test input that is not JSON)
    id: str = "toolu_fake"
    fragments: int = 3

    def input_text(self) -> str:
        return self.input if isinstance(self.input, str) else json.dumps(self.input)


@dataclass
class Reply:
    """One canned response. Build with `say`, `use`, `error`, or `stream_error`."""

    text: list[str] = field(default_factory=list)  # the streamed text deltas
    tool_uses: list[FakeToolUse] = field(default_factory=list)
    usage: tuple[int, int] = (12, 7)  # (input_tokens, output_tokens)
    status: int = 200
    error: tuple[str, str] | None = None  # (type, message): an error body or event
    # When set, the server sends the first text delta, then waits for this event before
    # the rest: a test sets it from `on_text` to prove text arrives while streaming.
    gate: threading.Event | None = None
    gate_opened: bool | None = None

    @classmethod
    def say(cls, *deltas: str, usage: tuple[int, int] = (12, 7)) -> Reply:
        return cls(text=list(deltas), usage=usage)

    @classmethod
    def use(cls, *uses: FakeToolUse, text: tuple[str, ...] = ()) -> Reply:
        return cls(text=list(text), tool_uses=list(uses))

    @classmethod
    def error_response(cls, status: int, type: str, message: str) -> Reply:
        """An HTTP error with the API's error body."""
        return cls(status=status, error=(type, message))

    @classmethod
    def stream_error(cls, type: str, message: str) -> Reply:
        """A 200 stream that fails part-way with an `error` event (e.g. overloaded)."""
        return cls(error=(type, message))


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> list[Event]:
    events: list[Event] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def stream_events(reply: Reply, model: str) -> list[Event]:
    """The events of a streamed `reply`, in wire order."""
    message: dict[str, Any] = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.usage[0], "output_tokens": 1},
    }
    events: list[Event] = [("message_start", {"type": "message_start", "message": message})]
    events.append(("ping", {"type": "ping"}))
    if reply.error is not None:  # a stream that fails after it started
        error = {"type": reply.error[0], "message": reply.error[1]}
        return [*events, ("error", {"type": "error", "error": error})]
    if reply.text:
        deltas = [{"type": "text_delta", "text": t} for t in reply.text]
        events += _block(0, {"type": "text", "text": ""}, deltas)
    for index, use in enumerate(reply.tool_uses, start=1 if reply.text else 0):
        start = {"type": "tool_use", "id": use.id, "name": use.name, "input": {}}
        pieces = split(use.input_text(), use.fragments)
        events += _block(
            index, start, [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        )
    stop = "tool_use" if reply.tool_uses else "end_turn"
    delta = {"stop_reason": stop, "stop_sequence": None}
    usage = {"output_tokens": reply.usage[1]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _sse(event: Event) -> bytes:
    return f"event: {event[0]}\ndata: {json.dumps(event[1])}\n\n".encode()


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


class _Handler(ScriptedHandler):
    def do_POST(self) -> None:
        raw = self.read_body()
        body: Any = json.loads(raw) if raw else None
        owner = self.owner
        owner.record(RecordedRequest(self.path, self.lower_headers(), body))
        if self.path != MESSAGES_PATH:
            self._send(Reply.error_response(404, "not_found_error", f"no route {self.path}"))
            return
        self._send(owner.next_reply(), model=str((body or {}).get("model", "")))

    def _send(self, reply: Reply, model: str = "") -> None:
        if reply.status != 200:
            assert reply.error is not None, "an error reply says which error"
            error = {"type": "error", "error": {"type": reply.error[0], "message": reply.error[1]}}
            self._respond(reply.status, "application/json", [json.dumps(error).encode()])
            return
        chunks = [_sse(event) for event in stream_events(reply, model)]
        if reply.gate is None:
            self._respond(200, "text/event-stream", chunks)
            return
        first = next(i for i, c in enumerate(chunks) if b'"text_delta"' in c) + 1
        self._respond(200, "text/event-stream", chunks[:first], more=True)
        reply.gate_opened = reply.gate.wait(timeout=5)
        self.write(b"".join(chunks[first:]))

    def _respond(
        self, status: int, content_type: str, chunks: list[bytes], more: bool = False
    ) -> None:
        headers = {"request-id": "req_fake", "retry-after-ms": "10"}  # keeps retry tests fast
        # A gated stream has no length: it ends when the connection closes.
        self.respond(status, content_type, b"".join(chunks), headers, sized=not more)


class FakeAnthropicServer(ScriptedServer[Reply, RecordedRequest]):
    """The scripted server; a context manager that runs it on an ephemeral port.

    `url` is the base URL to give the SDK: `http://127.0.0.1:PORT`; `bodies` are the JSON
    bodies of the Messages API requests received, in order.
    """

    handler = _Handler
    api_path = MESSAGES_PATH

    def no_reply(self) -> Reply:
        return Reply.error_response(500, "api_error", "fake server: no reply queued")
