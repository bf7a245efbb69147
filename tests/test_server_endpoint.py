"""The chat endpoint's own path (a plain ASGI endpoint, not FastAPI's machinery): it
answers and refuses as every other path does, over real HTTP (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest
from fakes.chat_client import chat, isolate, user
from fakes.live_server import JSON_HEADERS, LiveServer

from dcaf_cli.runtime.agent import FunctionAgent
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app
from dcaf_cli.server.limits import Limits


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


def test_requests_beyond_the_concurrent_limit_wait_for_a_slot() -> None:
    release = threading.Event()
    seen: list[str] = []

    def agent(messages: list[Any], context: dict[str, Any]) -> str:
        seen.append(messages[-1]["content"])
        if len(seen) == 1:
            release.wait(30)  # the first turn (on a thread) holds the only slot
        return "done"

    app = create_app(FunctionAgent(agent), limits=Limits(concurrent=1))
    slots = app.state.service.slots
    with LiveServer(app) as server, ThreadPoolExecutor(2) as pool:
        first = pool.submit(post_chat, server.url, "first")
        until(lambda: seen == ["first"])
        second = pool.submit(post_chat, server.url, "second")
        until(lambda: slots.statistics().tasks_waiting == 1)
        assert seen == ["first"]  # the second waits for the slot, not yet running
        release.set()
        assert first.result(timeout=30) == second.result(timeout=30) == 200
    assert seen == ["first", "second"]


def post_chat(url: str, content: str) -> int:
    with client(url) as http:
        return http.post("/api/chat", json={"messages": [user(content)]}).status_code


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30  # generous: only a failure waits this long
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)
