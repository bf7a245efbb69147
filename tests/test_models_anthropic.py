"""The `anthropic:` provider, through the real SDK against a local Messages API server."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import FakeAnthropicServer, FakeToolUse, Reply
from fakes.shop_recording import MODEL_TURNS, alternates, run_failing_turn, run_shop
from fakes.tool_specs import CART_SCHEMA, TOOLS

from dcaf_cli.errors import CredentialsError, ModelError, UsageError
from dcaf_cli.models import resolve_model
from dcaf_cli.models.anthropic import to_messages
from dcaf_cli.models.base import (
    Message,
    Model,
    ModelOptions,
    ModelReply,
    ModelRequest,
    TextSink,
    ToolCall,
    Usage,
)

KEY = "sk-ant-test-0123456789"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key, profile or base URL from the machine; the SDK's config dir is empty."""
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CUSTOM_HEADERS",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
        "ANTHROPIC_FEDERATION_RULE_ID",
        "ANTHROPIC_ORGANIZATION_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic"))
    monkeypatch.setenv("DCAF_MAX_RETRIES", "0")


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as fake:
        yield fake


def model_for(server: FakeAnthropicServer, **options: Any) -> Model:
    return resolve_model(
        "anthropic:claude-test", ModelOptions(base_url=server.url, api_key=KEY, **options)
    )


def ask(model: Model, messages: list[Message], on_text: TextSink | None = None) -> ModelReply:
    request = ModelRequest(system="You run a shop.", messages=messages, tools=TOOLS)
    return asyncio.run(model.complete(request, on_text))


def test_tool_use_round_trip(server: FakeAnthropicServer) -> None:
    server.queue(
        Reply.use(
            FakeToolUse("add_to_cart", {"item": "Widget", "quantity": 2}, id="toolu_1"),
            FakeToolUse("get_cart", {}, id="toolu_2"),
            text=("Adding them.",),
        ),
        Reply.say("Added ", "2 widgets."),
    )
    model = model_for(server)
    messages = [Message("user", "add 2 widgets")]

    first = ask(model, messages)
    assert first.text == "Adding them."
    assert first.tool_calls == [
        ToolCall("toolu_1", "add_to_cart", {"item": "Widget", "quantity": 2}),
        ToolCall("toolu_2", "get_cart", {}),
    ]
    messages += [
        Message("assistant", first.text, tool_calls=first.tool_calls),
        Message("tool", "added 2 Widget", tool_call_id="toolu_1", tool_name="add_to_cart"),
        Message(
            "tool", "cart offline", tool_call_id="toolu_2", tool_name="get_cart", is_error=True
        ),
    ]
    second = ask(model, messages)
    assert second.text == "Added 2 widgets."
    assert second.tool_calls == []

    sent, answered = server.bodies
    assert sent["model"] == "claude-test"
    assert sent["max_tokens"] == 4096
    assert sent["stream"] is True
    assert sent["system"] == "You run a shop."
    assert sent["tools"] == [
        {
            "name": "add_to_cart",
            "description": "Add an item to the cart.",
            "input_schema": CART_SCHEMA,
        },
        {"name": "get_cart", "description": "Show the cart.", "input_schema": TOOLS[1].parameters},
    ]
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "add 2 widgets"}]}
    ]
    assistant, results = answered["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Adding them."},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "add_to_cart",
                "input": {"item": "Widget", "quantity": 2},
            },
            {"type": "tool_use", "id": "toolu_2", "name": "get_cart", "input": {}},
        ],
    }
    # Both results in one user turn: the API requires user and assistant to alternate.
    assert results == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": "added 2 Widget",
                "is_error": False,
            },
            {
                "type": "tool_result",
                "tool_use_id": "toolu_2",
                "content": "cart offline",
                "is_error": True,
            },
        ],
    }
    headers = server.requests[0].headers
    assert KEY in headers.get("x-api-key", "") + headers.get("authorization", "")


def test_text_streams_in_deltas_while_the_response_is_open(server: FakeAnthropicServer) -> None:
    gate = threading.Event()
    reply = Reply.say("Hel", "lo, ", "world", usage=(21, 5))
    reply.gate = gate
    server.queue(reply)
    deltas: list[str] = []

    def on_text(delta: str) -> None:
        deltas.append(delta)
        gate.set()

    result = ask(model_for(server), [Message("user", "hi")], on_text)
    assert deltas == ["Hel", "lo, ", "world"]
    assert result.text == "Hello, world"
    assert reply.gate_opened is True  # the first delta reached us before the rest was sent
    assert result.usage == Usage(input_tokens=21, output_tokens=5)


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, "authentication_error", "authentication failed (401) — check ANTHROPIC_API_KEY"),
        (403, "permission_error", "permission denied for model 'claude-test'"),
        (404, "not_found_error", "unknown model 'claude-test'"),
        (429, "rate_limit_error", "rate limited (429)"),
        (529, "overloaded_error", "overloaded (529)"),
        (500, "api_error", "server error (500)"),
        (400, "invalid_request_error", "request rejected (400): messages: roles must alternate"),
    ],
)
def test_http_errors_become_one_line(
    server: FakeAnthropicServer, status: int, kind: str, expected: str
) -> None:
    server.queue(Reply.error_response(status, kind, "messages: roles must alternate"))
    with pytest.raises(ModelError) as caught:
        ask(model_for(server), [Message("user", "hi")])
    line = str(caught.value)
    assert line.startswith("anthropic: ")
    assert expected in line
    assert "\n" not in line
    assert KEY not in line


def test_an_error_event_mid_stream_becomes_model_error(server: FakeAnthropicServer) -> None:
    server.queue(Reply.stream_error("overloaded_error", "Overloaded"))
    with pytest.raises(ModelError, match="overloaded"):
        ask(model_for(server), [Message("user", "hi")], lambda _: None)


def test_retries_follow_dcaf_max_retries(
    server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_MAX_RETRIES", "1")
    server.queue(Reply.error_response(529, "overloaded_error", "Overloaded"), Reply.say("ok"))
    assert ask(model_for(server), [Message("user", "hi")]).text == "ok"
    assert len(server.bodies) == 2


def test_connection_refused_becomes_model_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = resolve_model(
        "anthropic:claude-test", ModelOptions(base_url=f"http://127.0.0.1:{port}", api_key=KEY)
    )
    with pytest.raises(ModelError, match=rf"cannot reach http://127.0.0.1:{port} — check"):
        ask(model, [Message("user", "hi")])


def test_a_missing_key_is_one_line_before_any_turn() -> None:
    with pytest.raises(CredentialsError) as info:
        resolve_model("anthropic:claude-test", ModelOptions(base_url="http://127.0.0.1:9"))
    assert str(info.value) == "anthropic: no API key — set ANTHROPIC_API_KEY or pass --api-key"


def test_key_and_base_url_come_from_the_environment(
    server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    server.queue(Reply.say("hello"))
    model = resolve_model("anthropic:claude-test")
    assert ask(model, [Message("user", "hi")]).text == "hello"
    headers = server.requests[0].headers
    assert KEY in headers.get("x-api-key", "") + headers.get("authorization", "")


def test_options_set_max_tokens_and_temperature(server: FakeAnthropicServer) -> None:
    server.queue(Reply.say("ok"))
    ask(model_for(server, max_tokens=100, temperature=0.2), [Message("user", "hi")])
    assert server.bodies[0]["max_tokens"] == 100
    assert server.bodies[0]["temperature"] == 0.2


def test_malformed_tool_input_is_a_model_error(server: FakeAnthropicServer) -> None:
    server.queue(Reply.use(FakeToolUse("add_to_cart", '{"item": ')))
    with pytest.raises(ModelError, match="malformed arguments for add_to_cart"):
        ask(model_for(server), [Message("user", "hi")])


def test_user_words_after_tool_results_share_their_turn() -> None:
    call = ToolCall("toolu_1", "get_cart", {})
    turns = to_messages(
        [
            Message("user", "cart?"),
            Message("assistant", "", tool_calls=[call]),
            Message("tool", "empty", tool_call_id="toolu_1", tool_name="get_cart"),
            Message("user", "thanks"),
        ]
    )
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert list(turns[1]["content"]) == [
        {"type": "tool_use", "id": "toolu_1", "name": "get_cart", "input": {}}
    ]
    blocks = turns[2]["content"]  # the SDK types a few block params as classes: not indexable
    assert [b["type"] for b in blocks] == ["tool_result", "text"]  # type: ignore[index]


def test_a_spec_without_model_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="anthropic:MODEL"):
        resolve_model("anthropic:")


def test_a_stalled_stream_times_out(
    server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_TIMEOUT", "0.3")
    reply = Reply.say("Hel", "lo")
    reply.gate = threading.Event()  # never opened by the client: the stream stalls
    server.queue(reply)
    try:
        with pytest.raises(ModelError, match=r"anthropic: the stream broke \(ReadTimeout\)"):
            ask(model_for(server), [Message("user", "hi")], lambda _: None)
    finally:
        reply.gate.set()  # let the server finish


def test_a_key_quoted_back_by_the_server_is_masked(server: FakeAnthropicServer) -> None:
    server.queue(Reply.error_response(400, "invalid_request_error", f"bad header {KEY}"))
    with pytest.raises(ModelError) as caught:
        ask(model_for(server), [Message("user", "hi")])
    assert KEY not in str(caught.value)
    assert "bad header ‹redacted›" in str(caught.value)


@pytest.mark.parametrize("name", ["DCAF_MAX_RETRIES", "DCAF_TIMEOUT"])
def test_bad_settings_are_usage_errors(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "lots")
    with pytest.raises(UsageError, match=name):
        resolve_model("anthropic:claude-test", ModelOptions(api_key=KEY))


# -- end to end: the shop agent on a recorded conversation ---------------------------------


def test_recorded_shop_conversation_ends_like_the_offline_run(
    server: FakeAnthropicServer,
) -> None:
    for n, (name, arguments, reply) in enumerate(MODEL_TURNS):
        server.queue(Reply.use(FakeToolUse(name, arguments, id=f"toolu_{n}")), Reply.say(reply))

    session, replies = run_shop(model_for(server))

    assert session == run_shop("offline")[0]
    assert replies == [reply for _, _, reply in MODEL_TURNS]
    assert server.pending() == 0
    last = server.bodies[-1]
    assert alternates(last["messages"])
    assert [t["name"] for t in last["tools"]] == [
        "add_to_cart",
        "remove_from_cart",
        "view_cart",
        "clear_cart",
        "checkout",
    ]
    assert "session" not in str(last["tools"])  # injected by the runtime, not asked of the model
    tool_result = last["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result"
    assert tool_result["tool_use_id"] == "toolu_2"
    assert "2x widget" in str(tool_result["content"])


def test_a_turn_that_fails_mid_way_is_rolled_back(server: FakeAnthropicServer) -> None:
    name, arguments, _ = MODEL_TURNS[0]
    server.queue(
        Reply.use(FakeToolUse(name, arguments)),
        Reply.error_response(529, "overloaded_error", "Overloaded"),
    )
    session, error = run_failing_turn(model_for(server))
    assert session == {"cart": [{"item": "gadget", "quantity": 1}]}  # add_to_cart undone
    assert error is not None
    assert "anthropic: the API is overloaded (529)" in error
