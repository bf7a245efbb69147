"""What the agent gets as `context`, as DCAF gives it: a custom function gets the last
user message's `platform_context` (and the calls its latest message approved), never the
request's top-level fields; an agent with tools gets both, `platform_context` winning."""

from __future__ import annotations

import json

import httpx
from flows import ask, user

PLATFORM = {"tenant_name": "acme", "k8s_namespace": "web"}


def test_a_custom_function_gets_the_platform_context(http: dict[str, httpx.Client]) -> None:
    older = {**user("first"), "platform_context": {"tenant_name": "old"}}
    latest = {**user("second"), "platform_context": PLATFORM}
    answer = ask(http["function"], [older, latest], thread_id="t-1", tenant_name="top")
    assert json.loads(answer["content"])["context"] == PLATFORM
    assert answer["meta_data"]["request_context"] == {"thread_id": "t-1", "tenant_name": "top"}


def test_a_custom_function_gets_an_empty_context_without_one(
    http: dict[str, httpx.Client],
) -> None:
    answer = ask(http["function"], [user("hi")], thread_id="t-1")
    assert json.loads(answer["content"])["context"] == {}


def test_an_agent_with_tools_gets_the_fields_and_the_platform_context(
    http: dict[str, httpx.Client],
) -> None:
    latest = {**user("hi"), "platform_context": PLATFORM}
    answer = ask(http["context"], [latest], thread_id="t-1", tenant_name="top")
    assert json.loads(answer["content"]) == {"thread_id": "t-1", **PLATFORM}


def test_a_custom_function_gets_the_calls_approved_for_it(http: dict[str, httpx.Client]) -> None:
    client = http["function"]
    paused = ask(client, [user("delete pod nginx-1")])
    [call] = paused["data"]["approvals"]
    assert call["name"] == "delete_pod"
    assert call["id"].startswith("fn-1.v2.")  # signed, like any proposal of this server
    decision = {**call, "execute": True}
    answer = ask(client, [user("delete pod nginx-1", session={}, approvals=[decision])])
    approved = [{"id": "fn-1", "name": "delete_pod", "input": {"name": "nginx-1"}}]
    assert json.loads(answer["content"]) == {"approved": approved}
    assert answer["data"]["session"] == {"deleted": ["nginx-1"]}
    again = client.post("/api/chat", json={"messages": [user("", approvals=[decision])]})
    assert again.status_code == 403  # once
    forged = {**decision, "input": {"name": "kube-system"}}
    refused = client.post("/api/chat", json={"messages": [user("", approvals=[forged])]})
    assert refused.status_code == 403
