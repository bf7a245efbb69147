"""RemoteAgent against the real dcaf server, and against a reference-like minimal server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.chat_client import isolate
from fakes.live_server import serving
from fakes.reference_server import ReferenceServer
from fakes.server_agents import (
    RUNS,
    context_echo_agent,
    counted_deploy,
    echo_agent,
    failing_agent,
)

from dcaf_cli.errors import UsageError
from dcaf_cli.runtime.agent import AgentLike, TurnOutcome, complete_turn
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.runtime.remote import RemoteAgent
from dcaf_cli.runtime.results import (
    Decision,
    ModelRound,
    PendingToolCall,
    TextDelta,
    ToolFinished,
    TurnEvent,
)
from dcaf_cli.server import create_app
from dcaf_cli.session.session import Session

LIFECYCLE = [
    ("Add 2 widgets to cart", {"cart": [{"item": "widget", "quantity": 2}]}),
    (
        "Add 3 gadgets",
        {"cart": [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 3}]},
    ),
    ("Checkout", {}),
    ("What's in my cart?", {}),
]


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    apps = {
        "shop": create_app(load_agent("shop")),
        "deploy": create_app(counted_deploy()),
        "counter": create_app(load_agent("counter")),
        "echo": create_app(echo_agent()),
        "context": create_app(context_echo_agent()),
        "failing": create_app(failing_agent()),
        "signed": create_app(load_agent("shop"), secret="s3cret"),
    }
    refs = {
        "reference": ReferenceServer(),
        "reference_stream": ReferenceServer(stream=True),
        "broken": ReferenceServer(status=502),
        "slow": ReferenceServer(delay=0.5),
    }
    with contextlib.ExitStack() as stack:
        found = dict(stack.enter_context(serving(apps)))
        found.update({name: stack.enter_context(ref).url for name, ref in refs.items()})
        yield found


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    RUNS.clear()


def turn(
    agent: AgentLike,
    session: Session,
    text: str,
    history: list[dict[str, Any]] | None = None,
    *,
    decisions: list[Decision] | None = None,
    events: list[TurnEvent] | None = None,
    **context: Any,
) -> TurnOutcome:
    async def decide(pending: list[PendingToolCall]) -> list[Decision]:
        return decisions if decisions is not None else [Decision(p.id, False) for p in pending]

    sink = events.append if events is not None else None
    message = {"role": "user", "content": text}
    coro = complete_turn(
        agent, history or [], message, session, decide, context=context, on_event=sink
    )
    return asyncio.run(coro)


def test_remote_agent_is_an_agent() -> None:
    agent = RemoteAgent("http://127.0.0.1:9/")
    assert isinstance(agent, AgentLike)
    assert agent.tools == []
    assert agent.model_name == "remote:http://127.0.0.1:9"


def test_a_url_needs_a_scheme() -> None:
    with pytest.raises(UsageError, match="must start with http:// or https://"):
        RemoteAgent("localhost:8000")


@pytest.mark.parametrize("stream", [True, False])
def test_multi_turn_cart_through_complete_turn(urls: dict[str, str], stream: bool) -> None:
    agent, session = RemoteAgent(urls["shop"], stream=stream), Session()
    history: list[Any] = []
    for text, expected in LIFECYCLE:
        events: list[TurnEvent] = []
        outcome = turn(agent, session, text, history, events=events)
        assert outcome.response.error is None
        assert session.to_dict() == expected
        history += outcome.messages
        if stream:
            assert isinstance(events[-2], ModelRound)
            assert isinstance(events[-1], TextDelta)
            assert events[-1].text == outcome.response.text
    assert [m["role"] for m in history] == ["user", "assistant"] * 4
    first = history[1]["data"]["executed_tool_calls"][0]
    assert first["name"] == "add_to_cart"


def test_turn_changes_are_reported(urls: dict[str, str]) -> None:
    session = Session({"note": "kept"})
    outcome = turn(RemoteAgent(urls["shop"]), session, "add 2 widgets")
    assert outcome.response.patch == [
        {"op": "add", "path": "/cart", "value": [{"item": "widget", "quantity": 2}]}
    ]
    assert session.to_dict() == {"note": "kept", "cart": [{"item": "widget", "quantity": 2}]}


def test_executed_calls_stream_as_tool_events(urls: dict[str, str]) -> None:
    events: list[TurnEvent] = []
    turn(RemoteAgent(urls["shop"]), Session(), "add 2 widgets", events=events)
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [e.call.name for e in finished] == ["add_to_cart"]


def deploy_until_paused(agent: RemoteAgent, session: Session) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = []
    for text in ("/start_deployment staging", "/add_service api 1.4.2"):
        history += turn(agent, session, text, history).messages
    return history


@pytest.mark.parametrize("stream", [True, False])
def test_approval_through_the_remote_agent(urls: dict[str, str], stream: bool) -> None:
    agent, session = RemoteAgent(urls["deploy"], stream=stream), Session()
    history = deploy_until_paused(agent, session)
    asked: list[PendingToolCall] = []

    async def approve(pending: list[PendingToolCall]) -> list[Decision]:
        asked.extend(pending)
        return [Decision(p.id, True) for p in pending]

    message = {"role": "user", "content": "execute the deployment"}
    outcome = asyncio.run(complete_turn(agent, history, message, session, approve))
    assert outcome.response.error is None
    assert [p.name for p in asked] == ["execute_deployment"]
    assert asked[0].signature is not None
    assert len(RUNS) == 1
    assert session.to_dict() == {}
    assert outcome.executed[-1].output == "✅ Deployed api:1.4.2 to staging"


def test_rejection_through_the_remote_agent(urls: dict[str, str]) -> None:
    agent, session = RemoteAgent(urls["deploy"]), Session()
    history = deploy_until_paused(agent, session)
    before = session.to_dict()
    outcome = turn(agent, session, "execute the deployment", history)
    assert outcome.response.error is None
    assert RUNS == []
    assert session.to_dict() == before
    assert outcome.executed[-1].error == "rejected: rejected by the user"


def test_edited_approval_is_refused_by_the_server(urls: dict[str, str]) -> None:
    agent, session = RemoteAgent(urls["deploy"]), Session()
    history = deploy_until_paused(agent, session)
    before = session.to_dict()
    pending_id = "offline-1"
    edited = [Decision(pending_id, True, input={"force": True})]
    outcome = turn(agent, session, "execute the deployment", history, decisions=edited)
    assert outcome.response.error is not None
    assert "the server answered 403: refused to run execute_deployment" in outcome.response.error
    assert RUNS == []
    assert session.to_dict() == before


def test_missing_arguments_through_the_remote_agent(urls: dict[str, str]) -> None:
    session = Session()
    filled = [Decision("offline-1", True, input={"item": "Widget", "quantity": 2})]
    outcome = turn(RemoteAgent(urls["shop"]), session, "add to cart", decisions=filled)
    assert outcome.response.error is None
    assert session.to_dict() == {"cart": [{"item": "Widget", "quantity": 2}]}


def test_custom_agent_function_through_the_remote_agent(urls: dict[str, str]) -> None:
    agent, session = RemoteAgent(urls["counter"]), Session()
    for n in (1, 2):
        assert turn(agent, session, f"hello {n}").response.text == f"This is call #{n}"
    assert session.to_dict() == {"call_count": 2, "last_message": "hello 2"}


def test_context_reaches_the_remote_agent(urls: dict[str, str]) -> None:
    outcome = turn(RemoteAgent(urls["context"]), Session(), "hi", tenant="acme")
    assert outcome.response.text == '{"tenant": "acme"}'


def test_server_side_failure_keeps_the_session(urls: dict[str, str]) -> None:
    session = Session({"kept": 1})
    outcome = turn(RemoteAgent(urls["failing"]), session, "hi")
    assert outcome.response.error == "RuntimeError: the agent fell over"
    assert session.to_dict() == {"kept": 1}


def test_signed_sessions_through_the_remote_agent(urls: dict[str, str]) -> None:
    agent, session = RemoteAgent(urls["signed"]), Session()
    history = turn(agent, session, "add 2 widgets").messages
    history += turn(agent, session, "add 1 gadget", history).messages
    cart = session.to_dict()["cart"]
    assert isinstance(cart, list)
    assert len(cart) == 2
    session.set("cart", [{"item": "gold bar", "quantity": 1000}])  # the client edits it
    outcome = turn(agent, session, "checkout", history)
    assert outcome.response.error is not None
    assert "signature does not match" in outcome.response.error
    assert session.to_dict()["cart"] == [{"item": "gold bar", "quantity": 1000}]


def test_signature_is_recovered_from_the_history(urls: dict[str, str]) -> None:
    session = Session()
    history = turn(RemoteAgent(urls["signed"]), session, "add 2 widgets").messages
    fresh = RemoteAgent(urls["signed"])  # e.g. `dcaf run --url` started again
    outcome = turn(fresh, session, "checkout", history)
    assert outcome.response.error is None
    assert session.to_dict() == {}


# -- a reference-like server: no session comes back --------------------------------------


@pytest.mark.parametrize("name", ["reference", "reference_stream"])
def test_reference_server_keeps_the_local_session_and_flags_it(
    urls: dict[str, str], name: str
) -> None:
    agent, session = RemoteAgent(urls[name]), Session({"cart": ["kept"]})
    events: list[TurnEvent] = []
    first = turn(agent, session, "hello", events=events)
    assert first.response.error is None
    assert first.response.text.strip() == "you said: hello"
    assert session.to_dict() == {"cart": ["kept"]}
    assert first.response.data["session_missing"] is True
    second = turn(agent, session, "again", first.messages)
    assert second.response.error is None
    assert second.response.data["session_missing"] is True
    assert session.to_dict() == {"cart": ["kept"]}
    assert agent.stream is (name == "reference_stream")  # 404s -> plain requests from then on
    if name == "reference_stream":
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "you said: hello "


def test_stream_lines_split_on_newlines_only() -> None:
    """U+2028 and U+0085 are line breaks to `str.splitlines` (and httpx's `iter_lines`)."""
    events: list[TurnEvent] = []
    with ReferenceServer(stream=True, ascii=False) as server:
        outcome = turn(RemoteAgent(server.url), Session(), "a\u2028b\x85c", events=events)
    assert outcome.response.error is None
    assert outcome.response.text == "you said: a\u2028b\x85c "


def test_line_separators_in_the_session_survive_the_stream(urls: dict[str, str]) -> None:
    session = Session({"odd": "one\u2028two\u2029three\x85four"})
    outcome = turn(RemoteAgent(urls["shop"]), session, "add 2 widgets")
    assert outcome.response.error is None
    assert session.get("odd") == "one\u2028two\u2029three\x85four"


def test_the_session_is_sent_in_the_last_user_message_only() -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "old", "data": {"session": {"stale": True}}},
        {"role": "assistant", "content": "ok", "data": {"session": {"stale": True}}},
        {"role": "user", "content": "new"},
    ]
    with ReferenceServer() as server:
        agent = RemoteAgent(server.url, stream=False)
        reply = asyncio.run(agent.arun(history, session={"a": 1}, context={"tenant": "t"}))
    assert reply.error is None
    [request] = server.requests
    assert request["body"] == {
        "tenant": "t",
        "messages": [
            {"role": "user", "content": "old"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "new", "data": {"session": {"a": 1}}},
        ],
    }


# -- failures are one line, and the session is untouched ---------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("refused", "cannot reach http://127.0.0.1:"),
        ("broken", "the server answered 502: <html>upstream exploded</html>"),
        ("slow", "did not answer within 0.2 s"),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
def test_network_failures_are_one_line(
    urls: dict[str, str], target: str, says: str, stream: bool
) -> None:
    url = urls.get(target) or f"http://127.0.0.1:{_closed_port()}"
    session = Session({"kept": 1})
    timeout = 0.2 if target == "slow" else 30.0  # a busy machine may take 0.2 s to answer
    outcome = turn(RemoteAgent(url, timeout=timeout, stream=stream), session, "hi")
    error = outcome.response.error
    assert error is not None
    assert says in error
    assert "\n" not in error
    assert session.to_dict() == {"kept": 1}
    assert outcome.messages == []
