"""The `openai:` and `ollama:` providers, through the real SDK against a local server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer, FakeToolCall, Reply, stream_events
from fakes.tool_specs import ADD_TO_CART, CART_SCHEMA

from dcaf_cli.errors import CredentialsError, ModelError, UsageError
from dcaf_cli.models import resolve_model
from dcaf_cli.models.base import (
    Message,
    ModelOptions,
    ModelReply,
    ModelRequest,
    ToolCall,
    Usage,
)
from dcaf_cli.models.openai_compat import OpenAICompatModel, create
from dcaf_cli.runtime.agent import Agent
from dcaf_cli.session.session import Session
from dcaf_cli.tools.tool import tool

KEY = "sk-test-0123456789abcdef"
TOOLS = [ADD_TO_CART]
ENV_TO_CLEAR = (
    *("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"),
    *("OPENAI_ADMIN_KEY", "OLLAMA_HOST", "DCAF_TIMEOUT"),
    *("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"),
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real keys, no proxies (nothing leaves 127.0.0.1), no home dir, no retries."""
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DCAF_MAX_RETRIES", "0")


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def model_for(server: FakeOpenAIServer, spec: str = "openai:fake") -> OpenAICompatModel:
    return create(spec, ModelOptions(base_url=server.url, api_key=KEY))


def ask(
    model: OpenAICompatModel, messages: list[Message], deltas: list[str] | None = None
) -> ModelReply:
    request = ModelRequest("You run a shop.", messages, TOOLS)
    sink = deltas.append if deltas is not None else None
    return asyncio.run(model.complete(request, sink))


def model_error(model: OpenAICompatModel) -> str:
    with pytest.raises(ModelError) as info:
        ask(model, [Message("user", "hi")])
    message = str(info.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


# -- the happy path ---------------------------------------------------------------------


def test_tool_call_round_trip(server: FakeOpenAIServer) -> None:
    server.queue(
        Reply.call("add_to_cart", {"item": "Widget", "quantity": 2}, id="call_abc"),
        Reply.say("Added ", "2 widgets ", "to your cart."),
    )
    model = model_for(server)
    history = [Message("user", "add 2 widgets")]

    first = ask(model, history)

    assert first.tool_calls == [
        ToolCall("call_abc", "add_to_cart", {"item": "Widget", "quantity": 2})
    ]
    assert first.text == ""
    history += [
        Message("assistant", tool_calls=first.tool_calls),
        Message("tool", "added 2 x Widget", tool_call_id="call_abc", tool_name="add_to_cart"),
    ]
    deltas: list[str] = []

    second = ask(model, history, deltas)

    assert deltas == ["Added ", "2 widgets ", "to your cart."]
    assert second.text == "Added 2 widgets to your cart."
    assert second.tool_calls == []
    assert second.usage == Usage(input_tokens=12, output_tokens=7)
    sent_first, sent_second = server.bodies
    assert sent_first["model"] == "fake"
    assert sent_first["stream"] is True
    assert sent_first["stream_options"] == {"include_usage": True}
    assert sent_first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add_to_cart",
                "description": "Add an item to the cart.",
                "parameters": CART_SCHEMA,
            },
        }
    ]
    assert sent_first["messages"] == [
        {"role": "system", "content": "You run a shop."},
        {"role": "user", "content": "add 2 widgets"},
    ]
    assistant, result = sent_second["messages"][-2:]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"][0]["id"] == "call_abc"
    assert assistant["tool_calls"][0]["function"]["name"] == "add_to_cart"
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {
        "item": "Widget",
        "quantity": 2,
    }
    assert result == {"role": "tool", "tool_call_id": "call_abc", "content": "added 2 x Widget"}
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_tool_arguments_arrive_in_fragments_and_are_joined(server: FakeOpenAIServer) -> None:
    call = FakeToolCall("add_to_cart", {"item": "Gadget", "quantity": 3}, fragments=4)
    fragments = [
        part["function"]["arguments"]
        for chunk in stream_events(Reply(tool_calls=[call]))
        for choice in chunk["choices"]
        for part in choice["delta"].get("tool_calls", [])
        if part["function"]["arguments"]
    ]
    assert len(fragments) == 4  # the fake really splits them
    server.queue(Reply(tool_calls=[call, FakeToolCall("add_to_cart", {"item": "Widget"})]))

    reply = ask(model_for(server), [Message("user", "add things")])

    assert [(c.id, c.arguments) for c in reply.tool_calls] == [
        ("call_0", {"item": "Gadget", "quantity": 3}),
        ("call_1", {"item": "Widget"}),
    ]


def test_text_and_tool_call_in_one_reply(server: FakeOpenAIServer) -> None:
    server.queue(Reply(text=["Let me ", "add that."], tool_calls=[FakeToolCall("add_to_cart", {})]))
    deltas: list[str] = []

    reply = ask(model_for(server), [Message("user", "add")], deltas)

    assert deltas == ["Let me ", "add that."]
    assert reply.text == "Let me add that."
    assert reply.tool_calls == [ToolCall("call_0", "add_to_cart", {})]


def test_failed_tool_result_is_marked_as_an_error(server: FakeOpenAIServer) -> None:
    server.queue(Reply.say("Sorry."))
    failed = Message("tool", "out of stock", tool_call_id="c1", is_error=True)
    call = ToolCall("c1", "add_to_cart", {"item": "Unobtainium"})

    ask(
        model_for(server), [Message("user", "add"), Message("assistant", tool_calls=[call]), failed]
    )

    assert server.bodies[0]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "error: out of stock",
    }


def test_options_reach_the_request(server: FakeOpenAIServer) -> None:
    server.queue(Reply.say("ok"))
    options = ModelOptions(base_url=server.url, api_key=KEY, max_tokens=50, temperature=0.2)

    ask(create("openai:fake", options), [Message("user", "hi")])

    assert server.bodies[0]["max_tokens"] == 50
    assert server.bodies[0]["temperature"] == 0.2


def test_registry_builds_the_provider_from_the_environment(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server.queue(Reply.say("hello"))

    model = resolve_model("openai:fake")
    reply = asyncio.run(model.complete(ModelRequest("", [Message("user", "hi")], [])))

    assert model.name == "openai:fake"
    assert reply.text == "hello"
    assert "tools" not in server.bodies[0]
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_retries_follow_dcaf_max_retries(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_MAX_RETRIES", "1")
    server.queue(Reply.error(503, "busy", retry_after_ms="10"), Reply.say("ok"))

    assert ask(model_for(server), [Message("user", "hi")]).text == "ok"
    assert len(server.bodies) == 2


# -- errors -----------------------------------------------------------------------------


def test_server_error_is_one_line(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(500, "The server had an error\nwhile processing your request."))

    message = model_error(model_for(server))

    assert message == (
        f"openai: server error (500) at {server.url}: "
        "The server had an error while processing your request."
    )


def test_html_error_page_is_shortened(server: FakeOpenAIServer) -> None:
    page = "<html>\n<body>" + "Bad Gateway " * 100 + "</body></html>"
    server.queue(Reply.raw(page, status=502, content_type="text/html"))

    message = model_error(model_for(server))

    assert message.startswith(f"openai: server error (502) at {server.url}: <html> <body>Bad")
    assert len(message) < 250


def test_invalid_json_in_a_stream_chunk(server: FakeOpenAIServer) -> None:
    chunk = json.dumps(stream_events(Reply.say("Hel"))[1])
    server.queue(Reply.raw(f"data: {chunk}\n\ndata: {{not json\n\n"))

    message = model_error(model_for(server))

    assert message.startswith(f"openai: malformed reply from {server.url}: a chunk is not JSON")


@pytest.mark.parametrize(
    "body",
    [
        'data: {"choices": "nope"}\n\ndata: [DONE]\n\n',
        "data: [1, 2]\n\ndata: [DONE]\n\n",
        '{"id": "x", "choices": []}',  # a server that ignores stream=true
    ],
)
def test_malformed_streams(server: FakeOpenAIServer, body: str) -> None:
    server.queue(Reply.raw(body))

    assert "malformed reply" in model_error(model_for(server))


def test_an_error_event_in_the_stream(server: FakeOpenAIServer) -> None:
    server.queue(Reply.raw('data: {"error": {"message": "model overloaded"}}\n\n'))

    message = model_error(model_for(server))

    assert message == f"openai: error from {server.url}: model overloaded"


def test_arguments_that_are_not_json_name_the_tool(server: FakeOpenAIServer) -> None:
    server.queue(Reply.call("add_to_cart", '{"item": "Widget", quantity: 2'))

    message = model_error(model_for(server))

    assert message == (
        'the model sent arguments for add_to_cart that are not JSON: {"item": "Widget", quantity: 2'
    )


def test_arguments_that_are_not_an_object(server: FakeOpenAIServer) -> None:
    server.queue(Reply.call("add_to_cart", "[1, 2]"))

    assert "add_to_cart that are not a JSON object" in model_error(model_for(server))


def test_authentication_failure_mentions_the_key(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(401, f"Incorrect API key provided: {KEY}", type="invalid_api_key"))

    message = model_error(model_for(server))

    assert message == (
        f"openai: authentication failed (401) at {server.url} (check OPENAI_API_KEY or --api-key)"
    )
    assert KEY not in message


def test_a_key_quoted_back_by_the_server_is_redacted(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(400, f"bad request from key {KEY}"))

    message = model_error(model_for(server))

    assert KEY not in message
    assert message.endswith("bad request from key ‹redacted›")


def test_any_secret_a_server_quotes_is_masked_as_by_every_provider(
    server: FakeOpenAIServer,
) -> None:
    other = "ghp_" + "a1B2" * 9  # not our key: a token the server's message happens to hold
    server.queue(Reply.error(400, f"upstream said: token {other} revoked\n\x1b[31mretry"))

    message = model_error(model_for(server))

    assert other not in message
    assert message.endswith("upstream said: token ‹redacted› revoked \\x1b[31mretry")


def test_unknown_model(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(404, "The model `fake` does not exist", type="invalid_request_error"))

    message = model_error(model_for(server))

    assert message.startswith(f"openai: model 'fake' not found (404) at {server.url}")


def test_unknown_ollama_model_says_how_to_get_it(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(404, 'model "llama9" not found, try pulling it first'))

    message = model_error(model_for(server, "ollama:llama9"))

    assert message.endswith("(ollama pull llama9)")


def test_rate_limited(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(429, "Rate limit reached", type="rate_limit_error"))

    assert "rate limited (429)" in model_error(model_for(server))


def test_bad_request_shows_the_servers_reason(server: FakeOpenAIServer) -> None:
    server.queue(Reply.error(400, "Invalid schema for function 'add_to_cart'"))

    message = model_error(model_for(server))

    reason = "Invalid schema for function 'add_to_cart'"
    assert message == f"openai: request rejected (400) at {server.url}: {reason}"


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = create("openai:fake", ModelOptions(base_url=f"http://127.0.0.1:{port}/v1"))

    message = model_error(model)

    assert message == f"openai: cannot connect to http://127.0.0.1:{port}/v1 (check --base-url)"


def test_timeout(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCAF_TIMEOUT", "0.1")
    server.queue(Reply(text=["late"], delay=10))  # stopping the server cuts the wait short

    message = model_error(model_for(server))

    assert message == (
        f"openai: no reply from {server.url} within 0.1s (try again, or raise DCAF_TIMEOUT)"
    )


# -- building the model from its spec -----------------------------------------------------


def test_missing_key_for_openai() -> None:
    with pytest.raises(CredentialsError) as info:
        create("openai:gpt-4o-mini", ModelOptions())

    assert info.value.exit_status == 2
    assert str(info.value) == (
        "openai: no API key — set OPENAI_API_KEY or pass --api-key "
        "(or --base-url for a local server that needs no key)"
    )


def test_a_local_server_needs_no_key(server: FakeOpenAIServer) -> None:
    server.queue(Reply.say("hi"))
    model = create("openai:fake", ModelOptions(base_url=server.url))

    assert ask(model, [Message("user", "hi")]).text == "hi"


def test_key_comes_from_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")

    assert create("openai:m", ModelOptions()).api_key == "sk-from-env"
    assert create("openai:m", ModelOptions(api_key="sk-flag")).api_key == "sk-flag"
    assert create("openai:m", ModelOptions()).base_url == "https://api.openai.com/v1"


def test_the_key_is_not_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)

    assert KEY not in repr(create("openai:gpt-4o-mini", ModelOptions()))


@pytest.mark.parametrize(
    ("host", "url"),
    [
        (None, "http://localhost:11434/v1"),
        ("0.0.0.0:11500", "http://0.0.0.0:11500/v1"),
        ("https://ollama.internal/", "https://ollama.internal/v1"),
        ("http://gpu-box:11434/v1", "http://gpu-box:11434/v1"),
    ],
)
def test_ollama_url(monkeypatch: pytest.MonkeyPatch, host: str | None, url: str) -> None:
    if host is not None:
        monkeypatch.setenv("OLLAMA_HOST", host)

    model = create("ollama:llama3.2", ModelOptions())

    assert (model.base_url, model.model, model.api_key) == (url, "llama3.2", "ollama")


def test_ollama_base_url_option_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "elsewhere:1")

    model = create("ollama:qwen", ModelOptions(base_url="http://127.0.0.1:9/v1/"))

    assert model.base_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("spec", ["openai:", "ollama:  "])
def test_spec_without_a_model(spec: str) -> None:
    with pytest.raises(UsageError, match="names no model"):
        create(spec, ModelOptions(api_key=KEY))


@pytest.mark.parametrize("value", ["lots", "-1", "inf"])
def test_bad_retry_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DCAF_MAX_RETRIES", value)

    with pytest.raises(UsageError, match="DCAF_MAX_RETRIES"):
        create("openai:m", ModelOptions(api_key=KEY))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCAF_MAX_RETRIES", "5")
    monkeypatch.setenv("DCAF_TIMEOUT", "7.5")

    model = create("openai:m", ModelOptions(api_key=KEY))

    assert (model.max_retries, model.timeout) == (5, 7.5)


# -- end to end: an Agent driving the provider --------------------------------------------


def test_agent_tool_call_round_trip_changes_the_session(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    @tool
    def add_to_cart(item: str, quantity: int, session: Session) -> str:
        """Add an item to the cart."""
        cart: list[dict[str, Any]] = session.get("cart", [])
        session.set("cart", [*cart, {"item": item, "quantity": quantity}])
        return f"added {quantity} x {item}"

    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    server.queue(
        Reply.call("add_to_cart", {"item": "Widget", "quantity": "2"}),
        Reply.say("Added 2 widgets."),
    )
    agent = Agent(tools=[add_to_cart], model="openai:fake", system_prompt="You run a shop.")

    response = agent.run([{"role": "user", "content": "add 2 widgets"}], session={})

    assert response.error is None
    assert response.text == "Added 2 widgets."
    assert response.session == {"cart": [{"item": "Widget", "quantity": 2}]}
    tool_result = server.bodies[1]["messages"][-1]
    assert tool_result == {"role": "tool", "tool_call_id": "call_0", "content": "added 2 x Widget"}
    assert server.bodies[0]["tools"][0]["function"]["name"] == "add_to_cart"
    assert "session" not in json.dumps(server.bodies[0]["tools"])
