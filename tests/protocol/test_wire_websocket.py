"""`WS /api/chat-ws`: a JSON request per message, that turn's events back (`text_delta`
... `done`), several turns on one connection, and the same checks as over HTTP."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dcaf_schema import check_event, check_message
from flows import pause_deployment, user
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/api/chat-ws"


@pytest.fixture
def socket(servers: dict[str, str]) -> Iterator[dict[str, ClientConnection]]:
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(connect(ws_url(url), open_timeout=30))
            for name, url in servers.items()
        }


def turn(connection: ClientConnection, body: Any) -> list[dict[str, Any]]:
    """Send one request; the events up to the turn's end (`done` or `error`)."""
    connection.send(body if isinstance(body, str) else json.dumps(body))
    out: list[dict[str, Any]] = []
    while not out or out[-1]["type"] not in ("done", "error"):
        out.append(json.loads(connection.recv(timeout=60)))
        check_event(out[-1])
    return out


def test_several_turns_on_one_connection(socket: dict[str, ClientConnection]) -> None:
    session: dict[str, Any] = {}
    for n in (1, 2, 3):
        streamed = turn(socket["function"], {"messages": [user(f"n{n}", session=session)]})
        assert [e["type"] for e in streamed] == ["text_delta", "done"]
        check_message(streamed[-1]["message"])
        session = streamed[-1]["message"]["data"]["session"]
    assert session == {"calls": 3}


def test_tool_agent_turns_and_request_context(socket: dict[str, ClientConnection]) -> None:
    body = {"messages": [user("/start_deployment staging")], "thread_id": "t-9"}
    streamed = turn(socket["deploy"], body)
    assert [e["type"] for e in streamed] == ["executed_tool_calls", "text_delta", "done"]
    assert streamed[-1]["meta_data"] == {"request_context": {"thread_id": "t-9"}}


def test_an_approval_over_the_socket_runs_once(
    socket: dict[str, ClientConnection], http: dict[str, httpx.Client]
) -> None:
    _, paused = pause_deployment(http["deploy"])
    [call] = paused["data"]["approvals"]
    decision = {**call, "execute": True}
    message = user("", session=paused["data"]["session"], approvals=[decision])
    first = turn(socket["deploy"], {"messages": [message]})
    assert "executed_approvals" in [e["type"] for e in first]
    assert first[-1]["type"] == "done"
    again = turn(socket["deploy"], {"messages": [message]})
    assert [e["type"] for e in again] == ["error"]
    assert again[0]["code"] == 403
    assert "already used" in again[0]["error"]
    forged = {**decision, "input": {"environment": "production"}}
    refused = turn(socket["deploy"], {"messages": [{**message, "data": {"approvals": [forged]}}]})
    assert refused[0]["code"] == 403


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ("{", 400, "not valid JSON"),
        ({"thread_id": "t"}, 400, "'messages' field missing"),
        ({"messages": [{"role": "robot"}]}, 422, "messages.0.role"),
    ],
)
def test_a_bad_request_is_an_error_and_the_connection_goes_on(
    socket: dict[str, ClientConnection], body: Any, code: int, says: str
) -> None:
    [error] = turn(socket["function"], body)
    assert error["code"] == code
    assert says in error["error"]
    assert turn(socket["function"], {"messages": [user("still here")]})[-1]["type"] == "done"


def test_a_failed_turn_ends_with_one_error_carrying_the_session(
    socket: dict[str, ClientConnection],
) -> None:
    [error] = turn(socket["function"], {"messages": [user("boom", session={"calls": 5})]})
    assert error["error"] == "RuntimeError: the function fell over"
    assert error["message"]["data"]["session"] == {"calls": 5}


def test_a_page_from_another_origin_cannot_open_it(servers: dict[str, str]) -> None:
    url = ws_url(servers["function"])
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(url, origin=Origin("http://evil.example")),
    ):
        pass
    assert refused.value.response.status_code == 403
    port = servers["function"].rsplit(":", 1)[1]
    with connect(url, origin=Origin(f"http://127.0.0.1:{port}")) as same:
        assert turn(same, {"messages": [user("hi")]})[-1]["type"] == "done"


def test_a_message_over_the_body_limit_closes_the_socket(servers: dict[str, str]) -> None:
    """`--max-body` (4 MiB by default) bounds a WebSocket message as it bounds a body."""
    huge = json.dumps({"messages": [user("x" * (5 * 1024 * 1024))]})
    with connect(ws_url(servers["function"]), max_size=None) as connection:
        connection.send(huge)
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=60)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
