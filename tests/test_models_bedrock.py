"""The `bedrock:` provider, through real boto3 against a local Converse endpoint.

ConverseStream is served for real, in the AWS event-stream binary encoding (see
`fakes.bedrock_server.encode_frame`), not through botocore's Stubber.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.bedrock_server import FakeBedrockServer, FakeToolUse, Reply
from fakes.shop_recording import MODEL_TURNS, alternates, run_failing_turn, run_shop
from fakes.tool_specs import CART_SCHEMA, TOOLS

from dcaf_cli.errors import CredentialsError, ModelError, UsageError
from dcaf_cli.models import resolve_model
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

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
ACCESS_KEY = "AKIDFAKE0123456789"
SECRET_KEY = "fake/secret+key0123456789abcdefghijklmno"


@pytest.fixture(autouse=True)
def _isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake keys from the environment; no profile, config file, IMDS or home dir."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("DCAF_MAX_RETRIES", "0")
    monkeypatch.delenv("DCAF_BEDROCK_ENDPOINT_URL", raising=False)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrockServer]:
    with FakeBedrockServer() as fake:
        monkeypatch.setenv("DCAF_BEDROCK_ENDPOINT_URL", fake.url)
        yield fake


def ask(
    messages: list[Message], on_text: TextSink | None = None, model: Model | None = None
) -> ModelReply:
    model = model or resolve_model(f"bedrock:{MODEL_ID}")
    request = ModelRequest(system="You run a shop.", messages=messages, tools=TOOLS)
    return asyncio.run(model.complete(request, on_text))


@pytest.mark.parametrize("streaming", [True, False], ids=["converse-stream", "converse"])
def test_tool_use_round_trip(server: FakeBedrockServer, streaming: bool) -> None:
    server.queue(
        Reply.use(
            FakeToolUse("add_to_cart", {"item": "Widget", "quantity": 2}, id="tu_1"),
            FakeToolUse("get_cart", {}, id="tu_2"),
            text=("Adding them.",),
        ),
        Reply.say("Added ", "2 widgets.", usage=(40, 9)),
    )
    deltas: list[str] = []
    on_text = deltas.append if streaming else None
    model = resolve_model(f"bedrock:{MODEL_ID}")
    messages = [Message("user", "add 2 widgets")]

    first = ask(messages, on_text, model)
    assert first.text == "Adding them."
    assert first.tool_calls == [
        ToolCall("tu_1", "add_to_cart", {"item": "Widget", "quantity": 2}),
        ToolCall("tu_2", "get_cart", {}),
    ]
    messages += [
        Message("assistant", first.text, tool_calls=first.tool_calls),
        Message("tool", "added 2 Widget", tool_call_id="tu_1", tool_name="add_to_cart"),
        Message("tool", "cart offline", tool_call_id="tu_2", tool_name="get_cart", is_error=True),
    ]
    second = ask(messages, on_text, model)
    assert second.text == "Added 2 widgets."
    assert second.usage == Usage(input_tokens=40, output_tokens=9)
    if streaming:
        assert deltas == ["Adding them.", "Added ", "2 widgets."]

    operation = "converse-stream" if streaming else "converse"
    assert [(r.model_id, r.operation) for r in server.requests] == [(MODEL_ID, operation)] * 2
    sent, answered = server.bodies
    assert sent["system"] == [{"text": "You run a shop."}]
    assert sent["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "add_to_cart",
                    "description": "Add an item to the cart.",
                    "inputSchema": {"json": CART_SCHEMA},
                }
            },
            {
                "toolSpec": {
                    "name": "get_cart",
                    "description": "Show the cart.",
                    "inputSchema": {"json": TOOLS[1].parameters},
                }
            },
        ]
    }
    assert sent["messages"] == [{"role": "user", "content": [{"text": "add 2 widgets"}]}]
    assistant, results = answered["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"text": "Adding them."},
            {
                "toolUse": {
                    "toolUseId": "tu_1",
                    "name": "add_to_cart",
                    "input": {"item": "Widget", "quantity": 2},
                }
            },
            {"toolUse": {"toolUseId": "tu_2", "name": "get_cart", "input": {}}},
        ],
    }
    # Both results in one user turn: Converse requires user and assistant to alternate.
    assert results == {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "tu_1", "content": [{"text": "added 2 Widget"}]}},
            {
                "toolResult": {
                    "toolUseId": "tu_2",
                    "content": [{"text": "cart offline"}],
                    "status": "error",
                }
            },
        ],
    }
    authorization = server.requests[0].headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/us-east-1/bedrock/aws4_request" in authorization


def test_text_streams_in_deltas_while_the_response_is_open(server: FakeBedrockServer) -> None:
    gate = threading.Event()
    reply = Reply.say("Hel", "lo, ", "world", usage=(21, 5))
    reply.gate = gate
    server.queue(reply)
    deltas: list[str] = []

    def on_text(delta: str) -> None:
        deltas.append(delta)
        gate.set()

    result = ask([Message("user", "hi")], on_text)
    assert deltas == ["Hel", "lo, ", "world"]
    assert result.text == "Hello, world"
    assert reply.gate_opened is True  # the first delta reached us before the rest was sent
    assert result.usage == Usage(input_tokens=21, output_tokens=5)


ERRORS = {
    "access-denied": (
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
        f"bedrock: AccessDeniedException for model {MODEL_ID} in us-east-1 — check your AWS",
    ),
    "bad-key": (
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        "bedrock: AWS rejected the credentials (UnrecognizedClientException) — check",
    ),
    "throttled": (
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
        f"bedrock: ThrottlingException for model {MODEL_ID} in us-east-1 — wait a moment",
    ),
    "unknown-model": (
        400,
        "ValidationException",
        "The provided model identifier is invalid.",
        f"bedrock: unknown model id '{MODEL_ID}' in us-east-1 — check the id and region",
    ),
    "not-found": (404, "ResourceNotFoundException", "Model not found.", "unknown model id"),
    "unavailable": (503, "ServiceUnavailableException", "Unavailable.", "— try again later"),
    "invalid": (400, "ValidationException", "messages.1: roles must alternate", ": messages.1"),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_service_errors_become_one_line(
    server: FakeBedrockServer, case: tuple[int, str, str, str]
) -> None:
    status, code, message, expected = case
    server.queue(Reply.error_response(status, code, message))
    with pytest.raises(ModelError) as caught:
        ask([Message("user", "hi")], lambda _: None)
    line = str(caught.value)
    assert expected in line
    assert "\n" not in line
    assert SECRET_KEY not in line
    assert ACCESS_KEY not in line


def test_converse_errors_are_explained_the_same_way(server: FakeBedrockServer) -> None:
    server.queue(Reply.error_response(*ERRORS["unknown-model"][:3]))
    with pytest.raises(ModelError, match=re.escape(ERRORS["unknown-model"][3])):
        ask([Message("user", "hi")])  # no text sink: plain Converse
    assert server.requests[0].operation == "converse"


def test_throttling_mid_stream_becomes_model_error(server: FakeBedrockServer) -> None:
    server.queue(Reply.stream_error("throttlingException", "Too many tokens"))
    deltas: list[str] = []
    with pytest.raises(ModelError, match=r"ThrottlingException for model .* — wait a moment"):
        ask([Message("user", "hi")], deltas.append)
    assert deltas == ["partial"]


def test_falls_back_to_converse_when_a_model_cannot_stream_tools(server: FakeBedrockServer) -> None:
    server.queue(
        Reply.error_response(
            400, "ValidationException", "This model doesn't support tool use in streaming mode."
        ),
        Reply.say("no streaming", " here"),
    )
    deltas: list[str] = []
    assert ask([Message("user", "hi")], deltas.append).text == "no streaming here"
    assert deltas == ["no streaming here"]
    assert [r.operation for r in server.requests] == ["converse-stream", "converse"]


def test_retries_follow_dcaf_max_retries(
    server: FakeBedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_MAX_RETRIES", "1")
    server.queue(Reply.error_response(503, "ServiceUnavailableException", "busy"), Reply.say("ok"))
    assert ask([Message("user", "hi")]).text == "ok"
    assert len(server.requests) == 2


def test_region_and_settings_come_from_options(server: FakeBedrockServer) -> None:
    server.queue(Reply.say("ok"))
    model = resolve_model(
        f"bedrock:{MODEL_ID}", ModelOptions(region="eu-west-1", max_tokens=100, temperature=0.2)
    )
    ask([Message("user", "hi")], model=model)
    assert "/eu-west-1/bedrock/aws4_request" in server.requests[0].headers["authorization"]
    assert server.bodies[0]["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.2}


def test_malformed_tool_input_is_a_model_error(server: FakeBedrockServer) -> None:
    server.queue(Reply.use(FakeToolUse("add_to_cart", '{"item": ')))
    with pytest.raises(ModelError, match="malformed arguments for add_to_cart"):
        ask([Message("user", "hi")], lambda _: None)


def test_connection_refused_becomes_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DCAF_BEDROCK_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(ModelError, match=rf"bedrock: cannot reach http://127.0.0.1:{port} — check"):
        ask([Message("user", "hi")], lambda _: None)


def test_missing_credentials_are_one_line(
    server: FakeBedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CredentialsError) as info:
        resolve_model(f"bedrock:{MODEL_ID}")
    assert str(info.value) == (
        "bedrock: no AWS credentials — set AWS_PROFILE or AWS_ACCESS_KEY_ID or pass --profile"
    )
    assert server.requests == []


def test_unknown_profile_is_one_line(server: FakeBedrockServer) -> None:
    with pytest.raises(CredentialsError, match="bedrock: AWS profile 'nope' not found"):
        resolve_model(f"bedrock:{MODEL_ID}", ModelOptions(profile="nope"))


def test_missing_region_is_one_line(
    server: FakeBedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(CredentialsError, match="bedrock: no AWS region — set AWS_REGION"):
        resolve_model(f"bedrock:{MODEL_ID}")


def test_a_spec_without_model_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="bedrock:MODEL_ID"):
        resolve_model("bedrock:")


def test_a_stalled_stream_times_out(
    server: FakeBedrockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_TIMEOUT", "0.3")
    reply = Reply.say("Hel", "lo")
    reply.gate = threading.Event()  # never opened by the client: the stream stalls
    server.queue(reply)
    try:
        with pytest.raises(ModelError, match="bedrock: timed out waiting for the model"):
            ask([Message("user", "hi")], lambda _: None)
    finally:
        reply.gate.set()  # let the server finish


def test_a_corrupt_event_stream_is_one_line(server: FakeBedrockServer) -> None:
    reply = Reply.say("Hel", "lo")
    reply.corrupt = True
    server.queue(reply)
    with pytest.raises(ModelError, match=r"bedrock: the stream broke \(ChecksumMismatch\)"):
        ask([Message("user", "hi")], lambda _: None)


def test_an_access_key_quoted_back_is_masked(server: FakeBedrockServer) -> None:
    server.queue(Reply.error_response(400, "ValidationException", "key AKIAABCDEFGHIJKLMNOP"))
    with pytest.raises(ModelError, match="key ‹redacted›"):
        ask([Message("user", "hi")])


@pytest.mark.parametrize("name", ["DCAF_MAX_RETRIES", "DCAF_TIMEOUT"])
def test_bad_settings_are_usage_errors(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "-1")
    with pytest.raises(UsageError, match=name):
        resolve_model(f"bedrock:{MODEL_ID}")


# -- end to end: the shop agent on a recorded conversation ---------------------------------


def test_recorded_shop_conversation_ends_like_the_offline_run(server: FakeBedrockServer) -> None:
    for n, (name, arguments, reply) in enumerate(MODEL_TURNS):
        server.queue(Reply.use(FakeToolUse(name, arguments, id=f"tu_{n}")), Reply.say(reply))

    session, replies = run_shop(resolve_model(f"bedrock:{MODEL_ID}"))

    assert session == run_shop("offline")[0]
    assert replies == [reply for _, _, reply in MODEL_TURNS]
    assert server.pending() == 0
    last = server.bodies[-1]
    assert alternates(last["messages"])
    tools = [t["toolSpec"]["name"] for t in last["toolConfig"]["tools"]]
    assert tools == ["add_to_cart", "remove_from_cart", "view_cart", "clear_cart", "checkout"]
    assert "session" not in str(last["toolConfig"])  # injected by the runtime
    tool_result = last["messages"][-1]["content"][0]["toolResult"]
    assert tool_result["toolUseId"] == "tu_2"
    assert "2x widget" in str(tool_result["content"])


def test_a_turn_that_fails_mid_way_is_rolled_back(server: FakeBedrockServer) -> None:
    name, arguments, _ = MODEL_TURNS[0]
    server.queue(
        Reply.use(FakeToolUse(name, arguments)),
        Reply.error_response(403, "AccessDeniedException", "no access"),
    )
    session, error = run_failing_turn(resolve_model(f"bedrock:{MODEL_ID}"))
    assert session == {"cart": [{"item": "gadget", "quantity": 1}]}  # add_to_cart undone
    assert error is not None
    assert "bedrock: AccessDeniedException" in error


def test_cancelling_a_stalled_stream_does_not_wait_for_it(server: FakeBedrockServer) -> None:
    reply = Reply.say("Hel", "lo")
    reply.gate = threading.Event()  # never opened by the client: the stream stalls
    server.queue(reply)
    model = resolve_model(f"bedrock:{MODEL_ID}")
    request = ModelRequest("", [Message("user", "hi")], [])

    async def give_up_soon() -> None:
        await asyncio.wait_for(model.complete(request, lambda _: None), timeout=0.5)

    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            asyncio.run(give_up_soon())  # closing the loop must not join the reader thread
        assert time.monotonic() - started < 5  # well under the 120 s read timeout
    finally:
        reply.gate.set()
