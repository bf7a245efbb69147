"""A minimal HelpDesk server that behaves like the reference one: it drops `data`.

`POST /api/chat` answers only `{"role": "assistant", "content": ...}`. With
`stream=True`, `POST /api/chat-stream` sends `text_delta` events and a `done` that
carries no message (so no session); without it that path is a 404. `ascii=False` sends
non-ASCII raw (U+2028 included). `status` makes every chat request fail with that code;
`delay` makes it slow. Requests are recorded. Written with the standard library only,
independent of dcaf's server. HTTP/1.0, so every connection closes after its response.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakes.httpd import QuietHandler, Serving


class ReferenceServer(Serving):
    def __init__(
        self, *, stream: bool = False, status: int = 200, delay: float = 0.0, ascii: bool = True
    ) -> None:
        self.stream = stream
        self.ascii = ascii  # False: non-ASCII text goes out raw (U+2028 too), as JS servers do
        self.status = status
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def reply_text(self, body: dict[str, Any]) -> str:
        messages = body.get("messages") or [{}]
        return f"you said: {messages[-1].get('content', '')}"

    def start(self) -> ReferenceServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler(server: ReferenceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.read_body() or b"{}")
            server.requests.append({"path": self.path, "body": body})
            time.sleep(server.delay)
            if server.status != 200:
                self._send(server.status, b"<html>upstream exploded</html>", "text/html")
            elif self.path == "/api/chat":
                reply = {"role": "assistant", "content": server.reply_text(body)}
                self._send(200, json.dumps(reply).encode(), "application/json")
            elif self.path == "/api/chat-stream" and server.stream:
                words = server.reply_text(body).split(" ")
                events: list[dict[str, object]] = [
                    {"type": "text_delta", "text": w + " "} for w in words
                ]
                events.append({"type": "done", "stop_reason": "end_turn", "meta_data": {}})
                lines = "".join(json.dumps(e, ensure_ascii=server.ascii) + "\n" for e in events)
                self._send(200, lines.encode(), "application/x-ndjson")
            else:
                self._send(404, b'{"detail": "Not Found"}', "application/json")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
