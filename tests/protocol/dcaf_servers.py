"""HelpDesk servers of our own that speak exactly DCAF's documented shapes (standard
library only, independent of dcaf_cli), for `dcaf run --url` to talk to.

- `V1Server`: only DCAF's v1 endpoints, `POST /api/sendMessage` (an `AgentMessage` whose
  `data` carries the session, counted up) and, with `stream=True`,
  `POST /api/sendMessageStream` (`text_delta` events and a `done` with no message).
  Everything else is a 404, as on a v1-only DCAF server.
- `UnifiedServer`: DCAF's current stream, `POST /api/chat-stream`: an
  `intermittent_update`, then for "delete the pod" the unified `approvals` event (and the
  legacy `tool_calls` after it, as DCAF sends both) and `done`; a request whose latest
  message decides in `data.approvals` gets `executed_approvals`, the reply and `done`.
  Ids are DCAF's own (`toolu_...`), never signed; no message in `done`.

Both record the JSON bodies they were sent (`bodies`).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POD_CALL = {
    "id": "toolu_delete_789",
    "type": "tool_call",
    "name": "delete_pod",
    "input": {"name": "nginx-1", "namespace": "default"},
    "execute": False,
    "description": "Delete a Kubernetes pod",
    "intent": "Remove failing pod as requested",
}


class _Server:
    paths: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.bodies: list[tuple[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:
                if self.path not in owner.paths:
                    self.send_json(404, {"detail": "Not Found"})
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.bodies.append((self.path, body))
                if self.path.endswith("Stream") or self.path.endswith("-stream"):
                    self.send_lines(owner.events(body))
                else:
                    self.send_json(200, owner.answer(body))

            def send_json(self, status: int, value: Any) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def send_lines(self, events: list[dict[str, Any]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                for event in events:
                    self.wfile.write(json.dumps(event).encode() + b"\n")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, body: Any) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, body: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def _last(body: Any) -> dict[str, Any]:
    last: dict[str, Any] = body["messages"][-1]
    return last


class V1Server(_Server):
    def __init__(self, *, stream: bool = False) -> None:
        super().__init__()
        self.paths = (
            ("/api/sendMessage", "/api/sendMessageStream") if stream else ("/api/sendMessage",)
        )

    def answer(self, body: Any) -> dict[str, Any]:
        session = _last(body).get("data", {}).get("session", {})
        count = session.get("count", 0) + 1
        return {
            "role": "assistant",
            "content": f"v1 says: {_last(body)['content']}",
            "data": {
                "cmds": [],
                "executed_cmds": [],
                "tool_calls": [],
                "executed_tool_calls": [],
                "session": {**session, "count": count},
            },
            "meta_data": {},
        }

    def events(self, body: Any) -> list[dict[str, Any]]:
        text = f"v1 streams: {_last(body)['content']}"
        return [
            {"type": "text_delta", "text": text[:5]},
            {"type": "text_delta", "text": text[5:]},
            {"type": "done", "stop_reason": "end_turn", "meta_data": {}},
        ]


class UnifiedServer(_Server):
    paths = ("/api/chat-stream",)

    def events(self, body: Any) -> list[dict[str, Any]]:
        update = {"type": "intermittent_update", "text": "Thinking...", "content": {}}
        decided = _last(body).get("data", {}).get("approvals", [])
        if decided:
            return [update, *self._executed(decided), {"type": "done", "meta_data": {}}]
        if "delete" not in _last(body)["content"]:
            return [update, {"type": "text_delta", "text": "Nothing to do."}, {"type": "done"}]
        legacy = {
            "id": POD_CALL["id"],
            "name": POD_CALL["name"],
            "input": POD_CALL["input"],
            "execute": False,
            "tool_description": POD_CALL["description"],
            "input_description": {"name": {"type": "string"}},
            "intent": POD_CALL["intent"],
        }
        return [
            update,
            {"type": "intermittent_update", "text": "Calling tool: delete_pod", "content": {}},
            {"type": "approvals", "approvals": [POD_CALL]},
            {"type": "tool_calls", "tool_calls": [legacy]},
            {"type": "done", "stop_reason": "tool_use", "meta_data": {}},
        ]

    def _executed(self, decided: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = [
            {
                "id": a["id"],
                "type": a["type"],
                "name": a["name"],
                "input": a["input"],
                "output": 'pod "nginx-1" deleted'
                if a.get("execute")
                else f"Rejected: {a.get('rejection_reason')}",
            }
            for a in decided
        ]
        return [
            {"type": "executed_approvals", "executed_approvals": results},
            {"type": "text_delta", "text": "Done."},
        ]
