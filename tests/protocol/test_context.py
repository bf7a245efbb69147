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
