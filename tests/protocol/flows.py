"""Conversations a DCAF client sends, built as DCAF's message protocol guide shows them."""

from __future__ import annotations

import json
from typing import Any

import httpx
from dcaf_schema import check_message


def events(client: httpx.Client, body: Any, path: str = "/api/chat-stream") -> list[Any]:
    """POST to a stream endpoint; its NDJSON events."""
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200, response.read()
        return [json.loads(line) for line in response.iter_lines() if line.strip()]


def user(content: str, **data: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "user", "content": content}
    if data:
        message["data"] = data
    return message


def ask(client: httpx.Client, messages: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """POST `/api/chat`; the answer, checked against DCAF's `AgentMessage`."""
    response = client.post("/api/chat", json={"messages": messages, **fields})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    check_message(answer)
    return answer


def pause_deployment(client: httpx.Client) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Start a deployment and ask to execute it: (the conversation, the paused answer)."""
    session: dict[str, Any] = {}
    for text in ("/start_deployment staging", "/add_service api 1.4.2"):
        session = ask(client, [user(text, session=session)])["data"]["session"]
    question = user("execute the deployment", session=session)
    paused = ask(client, [question])
    assert [c["name"] for c in paused["data"]["tool_calls"]] == ["execute_deployment"]
    return [question], paused


def deployed(answer: dict[str, Any]) -> bool:
    return any(c["name"] == "execute_deployment" for c in answer["data"]["executed_tool_calls"])
