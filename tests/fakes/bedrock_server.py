"""A scripted AWS Bedrock Runtime (Converse API) endpoint on 127.0.0.1, for tests.

Point boto3 at `server.url` (`endpoint_url`), queue replies, read back what it was sent::

    with FakeBedrockServer() as server:
        server.queue(Reply.use(FakeToolUse("add_to_cart", {"item": "Widget"})), Reply.say("Done"))
        ...
        assert server.requests[1].body["messages"][-1]["content"][0]["toolResult"]

`POST /model/{modelId}/converse` answers one JSON document. `POST .../converse-stream`
answers in the AWS event-stream binary encoding (`encode_frame`: prelude, headers,
payload, CRC32s), which botocore decodes exactly as it does Bedrock's. Errors are HTTP
statuses with an `x-amzn-ErrorType` header, or exception frames part-way through a
stream. Streams are sent in HTTP/1.1 chunks; every connection closes after its response.
"""

from __future__ import annotations

import json
import struct
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from fakes.httpd import ScriptedHandler, ScriptedServer, split

Event = tuple[str, dict[str, Any]]


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: lengths, prelude CRC, string headers, payload, message CRC."""
    encoded = b""
    for name, value in headers.items():
        key, data = name.encode(), value.encode()
        encoded += struct.pack("!B", len(key)) + key + b"\x07" + struct.pack("!H", len(data)) + data
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event_frame(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_frame(headers, json.dumps(body).encode())


def exception_frame(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_frame(headers, json.dumps({"message": message}).encode())


@dataclass
class FakeToolUse:
    """A toolUse block; its input JSON streams in `fragments` pieces."""

    name: str
    input: dict[str, Any] | str  # a str is sent as is (to test input that is not JSON)
    id: str = "tooluse_fake"
    fragments: int = 3

    def input_text(self) -> str:
        return self.input if isinstance(self.input, str) else json.dumps(self.input)


@dataclass
class Reply:
    """One canned response. Build with `say`, `use`, `error`, or `stream_error`."""

    text: list[str] = field(default_factory=list)  # the streamed text deltas
    tool_uses: list[FakeToolUse] = field(default_factory=list)
    usage: tuple[int, int] = (12, 7)  # (inputTokens, outputTokens)
    status: int = 200
    error: tuple[str, str] | None = None  # (code, message)
    # When set, a stream sends its first text delta, then waits for this event before the
    # rest: a test sets it from `on_text` to prove text arrives while streaming.
    gate: threading.Event | None = None
    gate_opened: bool | None = None
    corrupt: bool = False  # flip a payload byte after its CRC was computed

    @classmethod
    def say(cls, *deltas: str, usage: tuple[int, int] = (12, 7)) -> Reply:
        return cls(text=list(deltas), usage=usage)

    @classmethod
    def use(cls, *uses: FakeToolUse, text: tuple[str, ...] = ()) -> Reply:
        return cls(text=list(text), tool_uses=list(uses))

    @classmethod
    def error_response(cls, status: int, code: str, message: str) -> Reply:
        """An HTTP error as AWS sends it: status, `x-amzn-ErrorType`, `{"message"}`."""
        return cls(status=status, error=(code, message))

    @classmethod
    def stream_error(cls, code: str, message: str) -> Reply:
        """A stream that fails part-way with an exception frame, e.g. throttlingException."""
        return cls(text=["partial"], error=(code, message))


def stream_events(reply: Reply) -> list[Event]:
    """The ConverseStream events of `reply`, in wire order."""
    events: list[Event] = [("messageStart", {"role": "assistant"})]
    if reply.text:
        events += [
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}})
            for t in reply.text
        ]
        events.append(("contentBlockStop", {"contentBlockIndex": 0}))
    for index, use in enumerate(reply.tool_uses, start=1 if reply.text else 0):
        start = {"toolUse": {"toolUseId": use.id, "name": use.name}}
        events.append(("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        events += [
            ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": p}}})
            for p in split(use.input_text(), use.fragments)
        ]
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
    events.append(("messageStop", {"stopReason": "tool_use" if reply.tool_uses else "end_turn"}))
    events.append(("metadata", {"usage": _usage(reply), "metrics": {"latencyMs": 1}}))
    return events


def converse_response(reply: Reply) -> dict[str, Any]:
    """The Converse (unstreamed) response for `reply`."""
    content: list[dict[str, Any]] = [{"text": "".join(reply.text)}] if reply.text else []
    content += [
        {"toolUse": {"toolUseId": u.id, "name": u.name, "input": json.loads(u.input_text())}}
        for u in reply.tool_uses
    ]
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if reply.tool_uses else "end_turn",
        "usage": _usage(reply),
        "metrics": {"latencyMs": 1},
    }


def _usage(reply: Reply) -> dict[str, int]:
    inputs, outputs = reply.usage
    return {"inputTokens": inputs, "outputTokens": outputs, "totalTokens": inputs + outputs}


@dataclass
class RecordedRequest:
    path: str
    model_id: str
    operation: str  # "converse" or "converse-stream"
    headers: dict[str, str]
    body: Any


class _Handler(ScriptedHandler):
    protocol_version = "HTTP/1.1"  # for chunked streams; every response still closes

    def do_POST(self) -> None:
        raw = self.read_body()
        headers = self.lower_headers()
        parts = self.path.split("/")  # "", "model", "{modelId}", "converse[-stream]"
        if len(parts) != 4 or parts[1] != "model":
            self._error(Reply.error_response(404, "UnknownOperationException", self.path))
            return
        request = RecordedRequest(self.path, unquote(parts[2]), parts[3], headers, json.loads(raw))
        owner = self.owner
        owner.record(request)
        reply = owner.next_reply()
        if reply.status != 200:
            self._error(reply)
        elif request.operation == "converse-stream":
            self._stream(reply)
        else:
            self._send(200, "application/json", json.dumps(converse_response(reply)).encode())

    def _error(self, reply: Reply) -> None:
        code, message = reply.error or ("InternalServerException", "no error given")
        body = json.dumps({"message": message}).encode()
        self._send(
            reply.status,
            "application/json",
            body,
            {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"},
        )

    def _stream(self, reply: Reply) -> None:
        """Frames in HTTP chunks, as Bedrock sends them (botocore reads a stream chunk by chunk)."""
        events = stream_events(reply)
        frames = [event_frame(name, body) for name, body in events]
        if reply.error is not None:  # fail after the first text delta
            frames = [*frames[:2], exception_frame(*reply.error)]
        if reply.corrupt:
            frames[1] = frames[1][:-6] + bytes([frames[1][-6] ^ 1]) + frames[1][-5:]
        self._send(200, "application/vnd.amazon.eventstream", b"", chunked=True)
        for index, frame in enumerate(frames):
            self.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            if reply.gate is not None and "text" in events[index][1].get("delta", {}):
                reply.gate_opened = reply.gate.wait(timeout=5)
                reply.gate = None  # wait once, after the first text delta
        self.write(b"0\r\n\r\n")

    def _send(
        self,
        status: int,
        content_type: str,
        data: bytes,
        headers: dict[str, str] | None = None,
        chunked: bool = False,
    ) -> None:
        extra = {
            "x-amzn-RequestId": "fake-request-id",
            "Connection": "close",  # one request per connection: clean shutdown
            **(headers or {}),
        }
        if chunked:
            extra["Transfer-Encoding"] = "chunked"
        self.respond(status, content_type, data, extra, sized=not chunked)


class FakeBedrockServer(ScriptedServer[Reply, RecordedRequest]):
    """The scripted endpoint; a context manager that runs it on an ephemeral port.

    `url` is the endpoint URL to give boto3: `http://127.0.0.1:PORT`.
    """

    handler = _Handler

    def no_reply(self) -> Reply:
        return Reply.error_response(500, "InternalServerException", "fake server: no reply queued")
