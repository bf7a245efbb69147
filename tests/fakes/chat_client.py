"""Helpers shared by the server and remote tests: protocol messages and the deploy flow."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def isolate(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxies (nothing leaves 127.0.0.1), no secrets or settings from the shell.

    (The autouse fixture in conftest.py moves the user dirs to tmp_path.)
    """
    for name in (*PROXY_VARS, "DCAF_SESSION_SECRET", "DCAF_APPROVAL_KEY", "DCAF_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("DCAF_SERVE_AGENT", "DCAF_SERVE_MODEL", "DCAF_SERVE_MAX_BODY", "DCAF_SERVE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def user(content: str, session: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    if session is not None:
        data["session"] = session
    message: dict[str, Any] = {"role": "user", "content": content}
    if data:
        message["data"] = data
    return message


def chat(
    client: httpx.Client, messages: list[dict[str, Any]], path: str = "/api/chat", **extra: Any
) -> dict[str, Any]:
    """POST a conversation and return the assistant message (200 expected)."""
    response = client.post(path, json={"messages": messages, **extra})
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json()
    return message


def stream(
    client: httpx.Client, messages: list[dict[str, Any]], path: str = "/api/chat-stream"
) -> list[dict[str, Any]]:
    """POST to a stream endpoint and return its NDJSON events (200 expected)."""
    with client.stream("POST", path, json={"messages": messages}) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response.iter_lines() if line.strip()]


def without_session(message: dict[str, Any]) -> dict[str, Any]:
    """An assistant message as a client keeps it in its history."""
    data = {k: v for k, v in message["data"].items() if k != "session"}
    return {**message, "data": data}


def reach_approval(client: httpx.Client) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Start a deployment, add a service, ask to execute: (conversation, paused reply)."""
    session: dict[str, Any] = {}
    for text in ("/start_deployment staging", "/add_service api 1.4.2"):
        session = chat(client, [user(text, session)])["data"]["session"]
    history = [user("execute the deployment", session)]
    paused = chat(client, history)
    assert [c["name"] for c in paused["data"]["tool_calls"]] == ["execute_deployment"]
    return history, paused


def decision(
    history: list[dict[str, Any]],
    paused: dict[str, Any],
    *,
    approve: bool = True,
    session: dict[str, Any] | None = None,
    **changes: Any,
) -> list[dict[str, Any]]:
    """The conversation answering the paused call (fields of the call overridable)."""
    call = {**paused["data"]["tool_calls"][0], "execute": approve, **changes}
    if not approve:
        call["rejection_reason"] = "not today"
    carried = paused["data"]["session"] if session is None else session
    answer = user("", carried, tool_calls=[call])
    return [*history, without_session(paused), answer]
