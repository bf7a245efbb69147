"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

Queue the replies the "model" should give, point a client at `server.url`, and read back
what it was sent::

    with FakeOpenAIServer() as server:
        server.queue(Reply.call("add_to_cart", {"item": "Widget"}), Reply.say("Done", "!"))
        model = resolve_model("openai:fake", ModelOptions(base_url=server.url, api_key="k"))
        ...
        assert server.requests[1].body["messages"][-1]["role"] == "tool"

Each POST to `/v1/chat/completions` takes the next queued reply. Streaming requests get
Server-Sent Events (`data: {...}` chunks, then `data: [DONE]`); others get one JSON
completion. With nothing queued the server answers 500 with "no reply queued", so a test
that asks the model once too often fails with a clear message. Responses are HTTP/1.0
(the connection closes after each), which keeps shutdown simple and clean.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from fakes.httpd import ScriptedHandler, ScriptedServer, split

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass
class FakeToolCall:
    """A tool call the fake model makes; `arguments` streams in `fragments` pieces."""

    name: str
    arguments: dict[str, Any] | str  # a str is sent as is (to test arguments that are not JSON)
    id: str | None = None
    fragments: int = 3

    def arguments_text(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Reply:
    """One canned response. Build with `say`, `call`, `error` or `raw`."""

    text: list[str] = field(default_factory=list)  # the streamed text deltas
    tool_calls: list[FakeToolCall] = field(default_factory=list)
    usage: tuple[int, int] | None = (12, 7)  # (prompt_tokens, completion_tokens)
    status: int = 200
    body: str | None = None  # when set, sent verbatim instead of a completion
    content_type: str = "application/json"
    delay: float = 0.0  # seconds to wait before answering
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers

    @classmethod
    def say(cls, *deltas: str, usage: tuple[int, int] | None = (12, 7)) -> Reply:
        """Text, streamed as one chunk per delta."""
        return cls(text=list(deltas), usage=usage)

    @classmethod
    def call(cls, name: str, arguments: dict[str, Any] | str, *, id: str | None = None) -> Reply:
        """One tool call, arguments streamed in several fragments."""
        return cls(tool_calls=[FakeToolCall(name, arguments, id=id)])

    @classmethod
    def error(
        cls, status: int, message: str, *, type: str = "server_error", **headers: str
    ) -> Reply:
        """An HTTP error with an OpenAI-style error body (`retry_after_ms="10"` → header)."""
        body = {"error": {"message": message, "type": type, "code": None}}
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        return cls(status=status, body=json.dumps(body), headers=extra)

    @classmethod
    def raw(cls, body: str, *, status: int = 200, content_type: str = "text/event-stream") -> Reply:
        """Exactly `body`, e.g. a broken SSE stream."""
        return cls(status=status, body=body, content_type=content_type)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [choice],
    }


def _tool_call_chunks(index: int, call: FakeToolCall) -> list[dict[str, Any]]:
    call_id = call.id or f"call_{index}"
    first = {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    rest = [
        {"index": index, "function": {"arguments": piece}}
        for piece in split(call.arguments_text(), call.fragments)
    ]
    return [_chunk({"tool_calls": [delta]}) for delta in [first, *rest]]


def stream_events(reply: Reply) -> list[dict[str, Any]]:
    """The chunks a streamed `reply` is made of, in order (without `[DONE]`)."""
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": delta}) for delta in reply.text]
    for index, call in enumerate(reply.tool_calls):
        chunks += _tool_call_chunks(index, call)
    chunks.append(_chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    if reply.usage is not None:
        prompt, completion = reply.usage
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        chunks.append({**_chunk({}), "choices": [], "usage": usage})
    return chunks


def completion(reply: Reply) -> dict[str, Any]:
    """The non-streamed completion for `reply`."""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.text) or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": c.id or f"call_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_text()},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    finish = "tool_calls" if reply.tool_calls else "stop"
    result: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if reply.usage is not None:
        result["usage"] = {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
        }
    return result


class _Handler(ScriptedHandler):
    def do_POST(self) -> None:
        raw = self.read_body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.owner.record(RecordedRequest("POST", self.path, self.lower_headers(), body))
        if self.path != COMPLETIONS_PATH:
            self._send(Reply.error(404, f"no route {self.path}", type="invalid_request_error"))
            return
        streaming = isinstance(body, dict) and bool(body.get("stream"))
        self._send(self.owner.next_reply(), streaming=streaming)

    def _send(self, reply: Reply, *, streaming: bool = False) -> None:
        if reply.delay:
            self.owner.stopping.wait(reply.delay)  # cut short when the server stops
        if reply.body is not None:
            payload, content_type = reply.body, reply.content_type
        elif streaming:
            events = [f"data: {json.dumps(chunk)}\n\n" for chunk in stream_events(reply)]
            payload, content_type = "".join(events) + "data: [DONE]\n\n", "text/event-stream"
        else:
            payload, content_type = json.dumps(completion(reply)), "application/json"
        # The client may have given up (a timeout test): then there is nothing to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.respond(reply.status, content_type, payload.encode(), reply.headers)


class FakeOpenAIServer(ScriptedServer[Reply, RecordedRequest]):
    """The scripted server; a context manager that starts and stops it on an ephemeral port.

    `url` is the base URL to give a client: `http://127.0.0.1:PORT/v1`; `bodies` are the
    JSON bodies of the chat-completions requests received, in order.
    """

    handler = _Handler
    url_path = "/v1"
    api_path = COMPLETIONS_PATH
    poll_interval = 0.01

    def no_reply(self) -> Reply:
        return Reply.error(500, "fake server: no reply queued")
