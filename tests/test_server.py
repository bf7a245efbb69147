"""The HelpDesk server, driven over real HTTP (uvicorn on 127.0.0.1) with httpx."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fakes.chat_client import chat, decision, isolate, reach_approval, stream, user
from fakes.live_server import JSON_HEADERS, serving
from fakes.server_agents import RUNS, counted_deploy, echo_agent, failing_agent

from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app

SECRET = "test-secret"
GUIDE_SESSION = {"cart": [{"item": "Widget", "quantity": 2}], "user_preference": "dark_mode"}


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, httpx.Client]]:
    """One live server per agent, and a client for it, started once for the module."""
    apps = {
        "shop": create_app(load_agent("shop")),
        "deploy": create_app(counted_deploy()),
        "counter": create_app(load_agent("counter")),
        "echo": create_app(echo_agent()),
        "failing": create_app(failing_agent()),
        "signed": create_app(load_agent("shop"), secret=SECRET),
        "small": create_app(load_agent("shop"), max_body_bytes=1000),
        "expired": create_app(counted_deploy(), approval_ttl=-1),
        "deploy_same_key": create_app(counted_deploy(), approval_key=b"k" * 32),
        "deploy_same_key_2": create_app(counted_deploy(), approval_key=b"k" * 32),
    }
    with contextlib.ExitStack() as stack:
        urls = stack.enter_context(serving(apps))
        yield {
            name: stack.enter_context(
                httpx.Client(headers=JSON_HEADERS, base_url=url, timeout=10, trust_env=False)
            )
            for name, url in urls.items()
        }


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    RUNS.clear()


@pytest.fixture
def client(clients: dict[str, httpx.Client]) -> Callable[[str], httpx.Client]:
    return clients.__getitem__


def test_health(client: Any) -> None:
    body = client("shop").get("/health").json()
    assert body == {
        "status": "ok",
        "agent": "shop",
        "model": "offline",
        "signed_sessions": False,
        "ledger": {"store": "memory", "ok": True},
    }


# -- the examples of DCAF's Session guide ----------------------------------------------


def test_guide_response_format(client: Any) -> None:
    reply = chat(client("shop"), [user("add 2 Widget", {"user_preference": "dark_mode"})])
    assert reply["role"] == "assistant"
    assert reply["content"].startswith("Added 2x Widget")
    assert reply["data"]["session"] == GUIDE_SESSION
    assert reply["data"]["tool_calls"] == []
    [executed] = reply["data"]["executed_tool_calls"]
    assert executed["name"] == "add_to_cart"
    assert executed["input"] == {"item": "Widget", "quantity": 2}


def test_guide_request_format_round_trips_the_session(client: Any) -> None:
    reply = chat(client("shop"), [user("add 1 Widget", GUIDE_SESSION)])
    assert reply["data"]["session"] == {
        "cart": [{"item": "Widget", "quantity": 3}],  # items match whatever their case
        "user_preference": "dark_mode",
    }


LIFECYCLE = [
    ("Add 2 widgets to cart", {"cart": [{"item": "widget", "quantity": 2}]}, "2 items"),
    (
        "Add 3 gadgets",
        {"cart": [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 3}]},
        "5 items",
    ),
    ("Checkout", {}, "Order placed! 5 items"),
    ("What's in my cart?", {}, "Your cart is empty."),
]


@pytest.mark.parametrize("path", ["/api/chat", "/api/sendMessage"])
def test_guide_session_lifecycle(client: Any, path: str) -> None:
    http, session, history = client("shop"), dict[str, Any](), list[Any]()
    for text, expected, said in LIFECYCLE:
        history.append(user(text, session))
        reply = chat(http, history, path)
        assert said in reply["content"]
        assert reply["data"]["session"] == expected
        session = reply["data"]["session"]
        history = [*history[:-1], user(text), {**reply, "data": {}}]


@pytest.mark.parametrize("path", ["/api/chat-stream", "/api/sendMessageStream"])
def test_guide_session_lifecycle_streamed(client: Any, path: str) -> None:
    http, session = client("shop"), dict[str, Any]()
    for text, expected, said in LIFECYCLE:
        events = stream(http, [user(text, session)], path)
        kinds = [e["type"] for e in events]
        assert kinds[-1] == "done"
        assert "text_delta" in kinds
        streamed = "".join(e["text"] for e in events if e["type"] == "text_delta")
        done = events[-1]
        assert done["stop_reason"] == "end_turn"
        assert done["message"]["content"] == streamed
        assert said in streamed
        assert done["message"]["data"]["session"] == expected
        session = done["message"]["data"]["session"]


def test_stream_sends_executed_calls_as_they_finish(client: Any) -> None:
    events = stream(client("shop"), [user("add 2 widgets", {})])
    assert [e["type"] for e in events] == ["executed_tool_calls", "text_delta", "done"]
    [call] = events[0]["executed_tool_calls"]
    assert call["name"] == "add_to_cart"
    assert call["output"] == "Added 2x widget. Cart now has 2 items."


def test_stream_lines_hold_no_other_line_breaks(client: Any) -> None:
    odd = {"note": "a\u2028b\u2029c\x85d\ne"}
    response = client("shop").post(
        "/api/chat-stream", json={"messages": [user("add 2 widgets", odd)]}
    )
    text = response.content.decode()
    assert len(text.splitlines()) == text.count("\n") == 3
    done = json.loads(text.splitlines()[-1])
    assert done["message"]["data"]["session"]["note"] == odd["note"]


def test_a_custom_function_gets_the_platform_context_not_the_request_fields(
    client: Any,
) -> None:
    message = {**user("hi"), "platform_context": {"tenant_name": "acme"}}
    reply = chat(client("echo"), [message], tenant="other", user={"id": 7})
    assert reply["content"] == '{"tenant_name": "acme"}'
    assert reply["meta_data"] == {"request_context": {"tenant": "other", "user": {"id": 7}}}


def test_custom_agent_function_counts_across_turns(client: Any) -> None:
    http, session = client("counter"), dict[str, Any]()
    for n in (1, 2, 3):
        reply = chat(http, [user(f"message {n}", session)])
        assert reply["content"] == f"This is call #{n}"
        session = reply["data"]["session"]
    assert session == {"call_count": 3, "last_message": "message 3"}


# -- approvals -----------------------------------------------------------------------------


def test_pending_call_goes_out_signed_and_unexecuted(client: Any) -> None:
    _, paused = reach_approval(client("deploy"))
    [call] = paused["data"]["tool_calls"]
    assert call["execute"] is False
    assert call["intent"] == "approval"
    version, issued, nonce, mac = call["signature"].split(".")
    assert (version, issued.isdigit(), len(nonce), len(mac)) == ("v2", True, 16, 43)
    assert paused["data"]["session"]["deployment"]["step"] == "services_added"
    assert RUNS == []


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat-stream"])
def test_approval_accepted_runs_the_tool_once(client: Any, path: str) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    conversation = decision(history, paused)
    if path == "/api/chat":
        reply = chat(http, conversation)
    else:
        events = stream(http, conversation)
        assert events[0]["type"] == "executed_tool_calls"
        reply = events[-1]["message"]
    assert len(RUNS) == 1
    [executed] = reply["data"]["executed_tool_calls"]
    assert executed["output"] == "✅ Deployed api:1.4.2 to staging"
    assert reply["data"]["session"] == {}
    assert reply["data"]["tool_calls"] == []


def test_signature_echoed_only_in_the_decision_is_enough(client: Any) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    conversation = decision(history, paused)
    stripped = conversation[-2]["data"]["tool_calls"][0]
    del stripped["signature"], stripped["intent"]  # a client that keeps less in its history
    chat(http, conversation)
    assert len(RUNS) == 1


def test_direct_call_needing_approval(client: Any) -> None:
    http = client("deploy")
    _, paused = reach_approval(http)
    direct = [user("/execute_deployment", paused["data"]["session"])]
    proposed = chat(http, direct)
    assert proposed["data"]["direct"] is True
    assert proposed["data"]["tool_calls"][0]["signature"]
    reply = chat(http, decision(direct, proposed))
    assert reply["content"] == "✅ Deployed api:1.4.2 to staging"
    assert len(RUNS) == 1


def test_approval_rejected_does_not_run_the_tool(client: Any) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    reply = chat(http, decision(history, paused, approve=False))
    assert RUNS == []
    [record] = reply["data"]["executed_tool_calls"]
    assert record["error"] == "rejected: not today"
    assert reply["data"]["session"] == paused["data"]["session"]


FORGERIES: dict[str, dict[str, Any]] = {
    "no signature": {"signature": None},
    "bad signature": {"signature": "v1.1700000000.AAAA"},
    "malformed signature": {"signature": "nonsense"},
    "changed input": {"input": {"force": True}},
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_approval_is_refused(client: Any, forgery: str) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    proposal = paused["data"]["tool_calls"][0]
    forged = {**paused, "data": {**paused["data"]}}
    plain = proposal["id"].split(".")[0]  # and no signature in the id either
    forged["data"]["tool_calls"] = [{**proposal, "id": plain, **FORGERIES[forgery]}]
    conversation = decision(history, forged)
    response = http.post("/api/chat", json={"messages": conversation})
    assert response.status_code == 403
    assert "refused to run execute_deployment" in response.json()["error"]
    assert RUNS == []


def test_invented_call_is_refused(client: Any) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    conversation = decision(history, paused, id="offline-1", signature=None)
    conversation[-2]["data"]["tool_calls"] = []  # the server never proposed it
    conversation[-2]["data"]["approvals"] = []
    response = http.post("/api/chat", json={"messages": conversation})
    assert response.status_code == 403
    assert "no such call is waiting" in response.json()["error"]
    assert RUNS == []


def test_decision_renaming_the_call_is_refused(client: Any) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    conversation = decision(history, paused, name="start_deployment")
    response = http.post("/api/chat", json={"messages": conversation})
    assert response.status_code == 403
    assert RUNS == []


def test_approval_against_another_session_is_refused(client: Any) -> None:
    http = client("deploy")
    history, paused = reach_approval(http)
    edited = {
        "deployment": {**paused["data"]["session"]["deployment"], "environment": "production"}
    }
    response = http.post("/api/chat", json={"messages": decision(history, paused, session=edited)})
    assert response.status_code == 403
    assert "another session state" in response.json()["error"]
    assert RUNS == []


def test_expired_proposal_is_refused(client: Any) -> None:
    http = client("expired")
    history, paused = reach_approval(http)
    response = http.post("/api/chat", json={"messages": decision(history, paused)})
    assert response.status_code == 403
    assert "expired" in response.json()["error"]
    assert RUNS == []


def test_workers_sharing_a_key_accept_each_others_proposals(client: Any) -> None:
    history, paused = reach_approval(client("deploy_same_key"))
    reply = chat(client("deploy_same_key_2"), decision(history, paused))
    assert len(RUNS) == 1
    assert reply["data"]["session"] == {}
    # A worker with its own random key cannot verify them.
    response = client("deploy").post("/api/chat", json={"messages": decision(history, paused)})
    assert response.status_code == 403


def test_missing_arguments_can_be_filled_in(client: Any) -> None:
    http = client("shop")
    history = [user("add to cart", {})]
    paused = chat(http, history)
    [call] = paused["data"]["tool_calls"]
    assert call["intent"] == "missing_arguments"
    assert call["missing"] == ["item", "quantity"]
    filled = decision(history, paused, input={"item": "Widget", "quantity": 2})
    reply = chat(http, filled)
    assert reply["data"]["session"] == {"cart": [{"item": "Widget", "quantity": 2}]}


def test_filling_in_may_not_change_given_arguments(client: Any) -> None:
    http = client("shop")
    history = [user("Add another widget", {})]
    paused = chat(http, history)
    assert paused["data"]["tool_calls"][0]["input"] == {"item": "another widget"}
    changed = decision(history, paused, input={"item": "Gadget", "quantity": 9})
    response = http.post("/api/chat", json={"messages": changed})
    assert response.status_code == 403
    assert "changes its arguments" in response.json()["error"]


# -- signed sessions ---------------------------------------------------------------------


def test_signed_sessions_round_trip(client: Any) -> None:
    http = client("signed")
    first = chat(http, [user("add 2 widgets")])
    signature = first["data"]["session_signature"]
    carried = user("add 1 gadget", first["data"]["session"], session_signature=signature)
    second = chat(http, [carried])
    assert len(second["data"]["session"]["cart"]) == 2
    assert second["data"]["session_signature"] != signature


@pytest.mark.parametrize("signature", [None, "v1.forged"])
def test_tampered_session_is_refused_when_signing(client: Any, signature: str | None) -> None:
    http = client("signed")
    first = chat(http, [user("add 2 widgets")])
    tampered = {"cart": [{"item": "widget", "quantity": 2000}]}
    extra = {"session_signature": signature} if signature else {}
    response = http.post("/api/chat", json={"messages": [user("checkout", tampered, **extra)]})
    assert response.status_code == 403
    assert "signature" in response.json()["error"]
    # The untampered one, with the server's signature, is fine.
    signed = first["data"]["session_signature"]
    good = user("checkout", first["data"]["session"], session_signature=signed)
    assert chat(http, [good])["data"]["session"] == {}


# -- limits and errors -------------------------------------------------------------------


def test_request_size_limit(client: Any) -> None:
    http = client("small")
    big = {"messages": [user("x" * 2000)]}
    response = http.post("/api/chat", json=big)
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
        yield b'{"messages": [{"role": "user", "content": "'
        yield b"x" * 2000
        yield b'"}]}'

    response = http.post("/api/chat-stream", content=chunks())
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"", 400, "empty"),
        (b"{", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b'{"messages": [{"role": "user", "content": "\\ud800"}]}', 400, "messages[0].content"),
        (b'{"messages": [{"role": "user", "content": "\xed\xa0\x80"}]}', 400, "not UTF-8"),
        (b'{"messages": [{"role": "user", "content": "x"}], "\\udfff": 1}', 400, "a key"),
        (b'{"messages": [{"role": "user", "content": NaN}]}', 400, "NaN"),
        (b'{"messages": [{"role": "user", "content": "x"}], "n": 1e400}', 400, "out of range"),
        (b'{"messages": [], "n": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
        (b"[" * 200 + b"]" * 200, 400, "nested"),
        (b"[]", 422, "JSON object"),
        (b"{}", 400, "'messages' field missing"),
        (b'{"messages": "hi"}', 422, "messages: Input should be a valid list"),
        (b'{"messages": [{"role": "robot"}]}', 422, "messages.0.role"),
        (b'{"messages": [{"role": "user", "content": 5}]}', 422, "messages.0.content"),
        (b'{"messages": [{"role": "user", "data": {"session": []}}]}', 422, "session"),
    ],
)
@pytest.mark.parametrize("path", ["/api/chat", "/api/chat-stream"])
def test_bad_requests_get_a_4xx_naming_the_problem(
    client: Any, path: str, body: bytes, status: int, says: str
) -> None:
    response = client("shop").post(path, content=body)
    assert response.status_code == status
    assert says in response.json()["error"]


def test_unknown_path_and_method_are_json_errors(client: Any) -> None:
    http = client("shop")
    assert http.get("/nope").json() == {"detail": "/nope: Not Found", "error": "/nope: Not Found"}
    response = http.get("/api/chat")
    assert response.status_code == 405
    assert "error" in response.json()


def test_agent_exception_returns_the_incoming_session(client: Any) -> None:
    session = {"kept": [1, 2, 3]}
    reply = chat(client("failing"), [user("hi", session)])
    assert reply["data"]["error"] == "RuntimeError: the agent fell over"
    assert reply["data"]["session"] == session


def test_agent_exception_in_the_stream(client: Any) -> None:
    events = stream(client("failing"), [user("hi", {"kept": True})])
    assert [e["type"] for e in events] == ["error", "done"]
    assert events[0]["error"] == "RuntimeError: the agent fell over"
    assert events[1]["stop_reason"] == "error"
    assert events[1]["message"]["data"]["session"] == {"kept": True}


def test_decisions_with_nothing_waiting_are_an_error_not_a_crash(client: Any) -> None:
    rejection = {"id": "x", "name": "checkout", "rejection_reason": "no"}
    reply = chat(client("shop"), [user("", {"a": 1}, tool_calls=[rejection])])
    assert "no call is waiting" in reply["data"]["error"]
    assert reply["data"]["session"] == {"a": 1}
