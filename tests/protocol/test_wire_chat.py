"""`POST /api/chat` and `/api/chat-stream` of `dcaf serve`, as DCAF's clients read them:
request_context, text deltas from custom functions, the fields DCAF requires on tool
calls, where the session comes from, dict outputs, DCAF's errors. Every answer and event
is checked against DCAF's schemas (`dcaf_schema`)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from dcaf_schema import check_event, check_message, to_dcaf
from flows import ask, events, pause_deployment, user

FIELDS = {"thread_id": "t-1", "tenant_id": "acme", "source": "help-desk"}


def test_chat_echoes_the_request_fields_in_request_context(http: dict[str, httpx.Client]) -> None:
    for name in ("deploy", "function"):
        answer = ask(http[name], [user("hello")], **FIELDS)
        assert answer["meta_data"]["request_context"] == FIELDS


def test_stream_done_echoes_the_request_fields(http: dict[str, httpx.Client]) -> None:
    for name in ("deploy", "function"):
        body = {"messages": [user("hello")], **FIELDS}
        done = events(http[name], body)[-1]
        assert done["type"] == "done"
        assert done["meta_data"]["request_context"] == FIELDS
        assert done["message"]["meta_data"]["request_context"] == FIELDS


def test_every_stream_event_is_one_of_dcafs(http: dict[str, httpx.Client]) -> None:
    _, paused = pause_deployment(http["deploy"])
    bodies = [
        {"messages": [user("/start_deployment staging")]},
        {"messages": [user("execute the deployment", session=paused["data"]["session"])]},
        {"messages": [user("hi")]},
    ]
    for name, body in [("deploy", b) for b in bodies] + [("function", bodies[2])]:
        for event in events(http[name], body):
            check_event(event)
            if event["type"] == "done":
                check_message(event["message"])


def test_a_custom_function_streams_its_reply_as_text_delta(http: dict[str, httpx.Client]) -> None:
    streamed = events(http["function"], {"messages": [user("hi")]})
    assert [e["type"] for e in streamed] == ["text_delta", "done"]
    assert streamed[0]["text"] == streamed[1]["message"]["content"]
    assert json.loads(streamed[0]["text"])["last"] == "hi"


def test_pending_calls_carry_every_field_dcaf_requires(http: dict[str, httpx.Client]) -> None:
    _, paused = pause_deployment(http["deploy"])
    [call] = paused["data"]["tool_calls"]
    assert call["execute"] is False
    assert call["tool_description"] == "Execute the deployment"
    assert call["input_description"] == {}  # execute_deployment takes no arguments
    assert call["intent"] == "approval"
    [approval] = paused["data"]["approvals"]
    assert approval == {
        "id": call["id"],
        "type": "tool_call",
        "name": "execute_deployment",
        "input": {},
        "execute": False,
        "description": "Execute the deployment",
        "intent": "approval",
    }


def test_input_description_is_the_tools_parameters(http: dict[str, httpx.Client]) -> None:
    answer = ask(http["deploy"], [user("/start_deployment")])  # `environment` is missing
    [call] = answer["data"]["tool_calls"]
    assert call["input_description"]["environment"]["enum"] == ["staging", "production"]


def test_a_paused_stream_sends_approvals_then_tool_calls(http: dict[str, httpx.Client]) -> None:
    _, paused = pause_deployment(http["deploy"])
    body = {"messages": [user("execute the deployment", session=paused["data"]["session"])]}
    streamed = events(http["deploy"], body)
    assert [e["type"] for e in streamed][-3:] == ["approvals", "tool_calls", "done"]
    assert streamed[-1]["stop_reason"] == "tool_calls"
    assert streamed[-3]["approvals"][0]["id"] == streamed[-2]["tool_calls"][0]["id"]


def test_the_session_comes_from_the_most_recent_message_carrying_one(
    http: dict[str, httpx.Client],
) -> None:
    """DCAF reads it from whichever message carries it last: here the answer the client
    echoes, while the new question carries none (or DCAF's default `{}`)."""
    first = ask(http["function"], [user("one", session={"calls": 41})])
    assert first["data"]["session"] == {"calls": 42}
    for question in (user("two"), user("two", session={})):
        answer = ask(http["function"], [user("one"), first, question])
        assert answer["data"]["session"] == {"calls": 43}
    kept_only_dcaf = [to_dcaf(user("one")), to_dcaf(first), to_dcaf(user("two"))]
    assert ask(http["function"], kept_only_dcaf)["data"]["session"] == {"calls": 43}


def test_an_emptied_session_stays_empty(http: dict[str, httpx.Client]) -> None:
    emptied = {"role": "assistant", "content": "", "data": {"session": {}}}
    answer = ask(http["function"], [user("one", session={"calls": 7}), emptied, user("two")])
    assert answer["data"]["session"] == {"calls": 1}


def test_executed_outputs_may_be_dicts(http: dict[str, httpx.Client]) -> None:
    done = {"id": "c-1", "name": "lookup", "input": {}, "output": {"pods": ["a", "b"]}}
    earlier = {"role": "assistant", "content": "", "data": {"executed_tool_calls": [done]}}
    answer = ask(http["deploy"], [user("status"), earlier, user("/start_deployment staging")])
    assert "error" not in answer["data"]
    assert [c["name"] for c in answer["data"]["executed_tool_calls"]] == ["start_deployment"]


def test_missing_messages_is_400_with_detail(http: dict[str, httpx.Client]) -> None:
    for path in ("/api/chat", "/api/chat-stream"):
        response = http["deploy"].post(path, json={"thread_id": "t"})
        assert response.status_code == 400
        assert response.json()["detail"] == "'messages' field missing from request body"


def test_a_function_that_raises_answers_200_with_error_content(
    http: dict[str, httpx.Client],
) -> None:
    answer = ask(http["function"], [user("boom", session={"calls": 3})])
    assert answer["content"] == "Error: RuntimeError: the function fell over"
    assert answer["data"]["error"] == "RuntimeError: the function fell over"
    assert answer["data"]["session"] == {"calls": 3}


def test_no_messages_is_answered_as_dcaf_does(http: dict[str, httpx.Client]) -> None:
    answer = ask(http["deploy"], [])
    assert answer["content"] == "No messages provided."
    streamed = events(http["deploy"], {"messages": []})
    assert [e["type"] for e in streamed] == ["error", "done"]
    assert streamed[0]["error"] == "No messages provided"


def test_refusals_carry_detail_and_error(http: dict[str, httpx.Client]) -> None:
    response = http["deploy"].post("/api/chat", json={"messages": [{"role": "robot"}]})
    assert response.status_code == 422
    body: dict[str, Any] = response.json()
    assert body["detail"] == body["error"]


def test_a_dict_output_reaches_the_model_as_json_text() -> None:
    from dcaf_cli.protocol.wire import parse_messages, to_model_messages

    done = {"id": "c-1", "name": "lookup", "input": {}, "output": {"pods": ["a"]}}
    wire = parse_messages([{"role": "assistant", "data": {"executed_tool_calls": [done]}}])
    [_, result] = to_model_messages(wire)
    assert result.content == '{"pods":["a"]}'
