"""The chat endpoint's own path (a plain ASGI endpoint, not FastAPI's machinery): it
answers and refuses as every other path does, over real HTTP (uvicorn on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import anyio
import httpx
import pytest
from fakes.chat_client import chat, isolate, user
from fakes.live_server import JSON_HEADERS, LiveServer

from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)


def client(url: str) -> httpx.Client:
    return httpx.Client(headers=JSON_HEADERS, base_url=url, timeout=10, trust_env=False)


def test_behind_a_root_path_the_chat_paths_still_answer() -> None:
    # uvicorn --root-path: the request's path carries the prefix, and FastAPI's router
    # (not the shortcut) finds the chat route; its endpoint is the same.
    app = create_app(load_agent("counter"))
    with LiveServer(app, root_path="/agent") as server, client(server.url) as http:
        for path in ("/api/chat", "/api/sendMessage"):
            reply = chat(http, [user("hi", {"call_count": 1})], path=path)
            assert reply["content"] == "This is call #2"
        refused = http.post("/api/chat", content=b"{")
    assert refused.status_code == 400
    assert "not valid JSON" in refused.json()["error"]


def test_a_chunked_body_over_the_limit_is_a_413() -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
        yield b'{"messages": [{"role": "user", "content": "'
        yield b"x" * 2000
        yield b'"}]}'

    app = create_app(load_agent("counter"), max_body_bytes=1000)
    with LiveServer(app) as server, client(server.url) as http:
        response = http.post("/api/chat", content=chunks())
        assert response.status_code == 413
        assert response.json()["detail"] == response.json()["error"]
        assert "larger than 1000 bytes" in response.json()["error"]
        small = b'{"messages": [{"role": "user", "content": "hi"}]}'
        assert http.post("/api/chat", content=iter([small[:9], small[9:]])).is_success


def test_a_client_leaving_before_its_body_ends_is_a_400_and_frees_its_slot() -> None:
    app = create_app(load_agent("counter"))
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/api/chat",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
    }
    incoming: Iterator[dict[str, Any]] = iter(
        [
            {"type": "http.request", "body": b'{"messages": ', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return next(incoming)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 400
    assert b"left before sending the whole body" in sent[1]["body"]
    assert app.state.service.slots.value == app.state.service.limits.concurrent


def test_the_openapi_document_lists_the_chat_paths() -> None:
    document = create_app(load_agent("counter")).openapi()
    for path in ("/api/chat", "/api/sendMessage"):
        assert "requestBody" not in document["paths"][path]["post"]  # the body is checked by hand
        assert "data.session" in document["paths"][path]["post"]["description"]
