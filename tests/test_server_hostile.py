"""The server against hostile clients, over real HTTP (uvicorn on 127.0.0.1): text that
is not Unicode, cross-site and rebinding requests, missing tokens, oversized and slow
requests, and replayed signed sessions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import invoke
from fakes.chat_client import chat, isolate, user
from fakes.live_server import JSON_HEADERS, LiveServer, serving
from uvicorn.logging import AccessFormatter

from dcaf_cli import Agent, FunctionAgent, Session, tool
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app
from dcaf_cli.server.connections import (
    RepeatFilter,
    SharedSocketLoop,
    no_delay,
    uvicorn_options,
)
from dcaf_cli.server.guard import AccessPolicy
from dcaf_cli.server.limits import Limits
from dcaf_cli.session.jsonvalue import MAX_DEPTH, same

RAN: list[str] = []
TOKEN = "t0ken-for-tests"
ORIGIN = "https://app.example"


@tool(description="Remember a note")
def remember(note: str, session: Session) -> str:
    """Remember a note."""
    RAN.append(note)
    session.set("note", note)
    return f"noted {note}"


def noter() -> Agent:
    return Agent(tools=[remember], name="noter")


def quitter(messages: list[dict[str, Any]], context: dict[str, Any]) -> str:
    """An agent function that tries to end the server."""
    raise SystemExit(2)


SMALL = Limits(values=50, depth=10, text_chars=100)


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    apps = {
        "noter": create_app(noter()),
        "signed": create_app(noter(), secret="s"),
        "expiring": create_app(noter(), secret="s", session_ttl=-1),
        "small": create_app(noter(), limits=SMALL),
        "token": create_app(noter(), access=AccessPolicy(token=TOKEN)),
        "origin": create_app(noter(), access=AccessPolicy(origins=frozenset({ORIGIN}))),
        "quitter": create_app(FunctionAgent(quitter, name="quitter")),
    }
    with serving(apps) as found:
        yield found


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    RAN.clear()


def client(url: str, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={**JSON_HEADERS, **headers}, timeout=30, trust_env=False
    )


def post(url: str, body: bytes | dict[str, Any], path: str = "/api/chat", **headers: str) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with client(url, **headers) as http:
        return http.post(path, content=content)


# -- text that is not Unicode -----------------------------------------------------------

SURROGATE_BODIES = [
    rb'{"messages":[{"role":"user","content":"/remember hi","data":{"session":{"x":"\ud800"}}}]}',
    rb'{"messages":[{"role":"user","content":"/remember \udfff"}]}',
    rb'{"messages":[{"role":"user","content":"/remember hi","data":{"session":{"\ud800":1}}}]}',
    rb'{"messages":[{"role":"user","content":"/remember hi"}],"tenant":"\udbff"}',
]


@pytest.mark.parametrize("server", ["noter", "signed"])
@pytest.mark.parametrize("path", ["/api/chat", "/api/chat-stream"])
@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_a_lone_surrogate_is_a_400_before_anything_runs(
    urls: dict[str, str], server: str, path: str, body: bytes
) -> None:
    response = post(urls[server], body, path)
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["error"]
    assert RAN == []


def test_a_surrogate_pair_is_one_character(urls: dict[str, str]) -> None:
    body = rb'{"messages":[{"role":"user","content":"/remember \ud83d\ude00"}]}'
    response = post(urls["noter"], body)
    assert response.status_code == 200
    assert response.json()["data"]["session"] == {"note": "\U0001f600"}


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat-stream"])
def test_agent_code_calling_sys_exit_fails_the_turn_not_the_server(
    urls: dict[str, str], path: str
) -> None:
    response = post(urls["quitter"], {"messages": [user("hi")]}, path)
    assert response.status_code == 200
    assert "agent code called sys.exit(2); agent code cannot end dcaf" in response.text
    with client(urls["quitter"]) as http:
        assert http.get("/health").status_code == 200


# -- limits -------------------------------------------------------------------------------


def test_too_many_values_is_a_400_before_parsing(urls: dict[str, str]) -> None:
    body = {"messages": [user("/remember x", {"list": [[0]] * 60})]}
    response = post(urls["small"], body)
    assert response.status_code == 400
    assert "more than 50 JSON values" in response.json()["error"]
    # Commas inside strings are not values.
    response = post(urls["small"], {"messages": [user("/remember " + "a," * 40)]})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat-stream"])
def test_the_deepest_session_goes_round_and_deeper_is_a_400(
    urls: dict[str, str], path: str
) -> None:
    def deep(levels: int) -> Any:
        value: Any = "x"
        for level in range(levels):
            value = {"d": value} if level % 2 else [value]
        return value

    message = {**user("/remember hi"), "data": {"session": {"deep": deep(MAX_DEPTH)}}}
    response = post(urls["noter"], {"messages": [message]}, path)
    assert response.status_code == 200
    last = json.loads(response.text.splitlines()[-1]) if "stream" in path else response.json()
    session = last["data"]["session"] if "data" in last else last["message"]["data"]["session"]
    assert same(session, {"deep": deep(MAX_DEPTH), "note": "hi"})
    message["data"] = {"session": {"deep": deep(MAX_DEPTH + 1)}}
    response = post(urls["noter"], {"messages": [message]}, path)
    assert response.status_code in (400, 422)
    assert f"nested deeper than {MAX_DEPTH} levels" in response.text


def test_deep_nesting_and_long_content_are_refused(urls: dict[str, str]) -> None:
    deep: Any = "x"
    for _ in range(12):
        deep = {"d": deep}
    response = post(urls["small"], {"messages": [user("hi")], "tenant": deep})
    assert response.status_code == 400
    assert "deeper than 10 levels" in response.json()["error"]
    response = post(urls["small"], {"messages": [user("/remember " + "x" * 200)]})
    assert response.status_code == 422
    assert "longer than 100 characters" in response.json()["error"]
    assert RAN == []


def test_a_one_megabyte_slash_argument_is_parsed(urls: dict[str, str]) -> None:
    note = "x" * 1_000_000
    response = post(urls["noter"], {"messages": [user(f"/remember '{note}'")]})
    assert response.status_code == 200
    assert [note] == RAN


# -- who may call -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_only_json_bodies_are_read(urls: dict[str, str], kind: str) -> None:
    body = {"messages": [user("/remember cross-site")]}
    response = post(urls["noter"], body, **{"content-type": kind})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert response.json()["detail"] == response.json()["error"]  # as every refusal
    assert response.content.startswith(b'{"detail":"')
    assert RAN == []


def test_a_foreign_host_is_refused(urls: dict[str, str]) -> None:
    body = {"messages": [user("/remember rebound")]}
    response = post(urls["noter"], body, host="evil.example")
    assert response.status_code == 421
    assert "--allow-host" in response.json()["error"]
    port = urls["noter"].rsplit(":", 1)[1]
    assert post(urls["noter"], body, host=f"localhost:{port}").status_code == 200
    with client(urls["noter"], host="evil.example") as http:
        assert http.get("/health").status_code == 421


def test_a_foreign_origin_is_refused_unless_allowed(urls: dict[str, str]) -> None:
    body = {"messages": [user("/remember from a page")]}
    response = post(urls["noter"], body, origin="https://evil.example")
    assert response.status_code == 403
    assert "--allow-origin" in response.json()["error"]
    assert post(urls["noter"], body, origin="null").status_code == 403
    assert RAN == []
    assert post(urls["noter"], body, origin=urls["noter"]).status_code == 200  # its own page
    allowed = post(urls["origin"], body, origin=ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    with client(urls["origin"]) as http:
        preflight = http.options(
            "/api/chat",
            headers={"origin": ORIGIN, "access-control-request-method": "POST"},
        )
    assert preflight.headers["access-control-allow-origin"] == ORIGIN


def test_a_token_is_required_when_set(urls: dict[str, str]) -> None:
    body = {"messages": [user("/remember secret")]}
    response = post(urls["token"], body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert post(urls["token"], body, authorization="Bearer wrong").status_code == 401
    assert RAN == []
    assert post(urls["token"], body, authorization=f"Bearer {TOKEN}").status_code == 200
    with client(urls["token"]) as http:
        assert http.get("/health").status_code == 200  # probes need no token


def test_dcaf_run_url_sends_the_token(
    urls: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    args = ["run", "--url", urls["token"], "--session", str(tmp_path / "s.json")]
    refused = invoke(capsys, *args, "-m", "/remember a")
    assert refused.code != 0
    assert "the server answered 401" in refused.err
    assert invoke(capsys, *args, "--token", TOKEN, "-m", "/remember b").code == 0
    monkeypatch.setenv("DCAF_SERVE_TOKEN", TOKEN)
    assert invoke(capsys, *args, "-m", "/remember c").code == 0
    assert RAN == ["b", "c"]


# -- signed sessions are fresh ------------------------------------------------------------


def _signed(reply: dict[str, Any]) -> dict[str, Any]:
    return {"session": reply["data"]["session"], "session_signature": reply["data"][
        "session_signature"]}  # fmt: skip


def test_an_older_signed_session_is_refused_once_a_newer_one_was_issued(
    urls: dict[str, str],
) -> None:
    with client(urls["signed"]) as http:
        first = chat(http, [user("/remember one")])
        older = _signed(first)
        second = chat(http, [user("/remember two", **older)])
        replay = http.post("/api/chat", json={"messages": [user("/remember again", **older)]})
        assert replay.status_code == 409
        assert "already used" in replay.json()["error"]
        chat(http, [user("/remember three", **_signed(second))])
    assert RAN == ["one", "two", "three"]


def test_of_two_requests_with_one_signed_state_one_runs(urls: dict[str, str]) -> None:
    with client(urls["signed"]) as http:
        state = _signed(chat(http, [user("/remember one")]))
    body = {"messages": [user("/remember twice", **state)]}
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda _: post(urls["signed"], body).status_code, range(2)))
    assert statuses == [200, 409]
    assert RAN == ["one", "twice"]


def test_an_expired_signed_session_is_refused(urls: dict[str, str]) -> None:
    with client(urls["expiring"]) as http:
        state = _signed(chat(http, [user("/remember one")]))
        response = http.post("/api/chat", json={"messages": [user("/remember two", **state)]})
    assert response.status_code == 403
    assert "expired" in response.json()["error"]


# -- slow clients -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["h11", "httptools"])
def slow_limits_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A server with short deadlines, on each of the HTTP parsers `dcaf serve` may use."""
    limits = Limits(header_seconds=0.5, body_seconds=0.5)
    options = uvicorn_options(limits)
    if request.param == "h11":
        options["http"] = "dcaf_cli.server.connections:GuardedH11Protocol"
    else:
        assert options["http"] == "dcaf_cli.server.fastparser:GuardedHttpToolsProtocol"
    server = LiveServer(create_app(load_agent("shop"), limits=limits), **options)
    with _started(server):
        yield server.url


@contextlib.contextmanager
def _started(server: LiveServer) -> Iterator[None]:
    server.start()
    try:
        yield
    finally:
        server.stop()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.settimeout(30)  # far beyond the server's deadlines: a hang fails the test
    return sock


def test_a_client_trickling_headers_is_cut_off(slow_limits_url: str) -> None:
    with _connect(slow_limits_url) as sock:
        sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert sock.recv(1024) == b""  # closed by the server, not by the timeout above
    assert httpx.get(f"{slow_limits_url}/health", trust_env=False).status_code == 200


def _until_closed(sock: socket.socket) -> bytes:
    """What the server sent before closing (a reset loses what it sent last)."""
    answer = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _one_response(sock: socket.socket) -> bytes:
    """One whole response (its head and `Content-Length` bytes of body), read as it comes."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    assert length is not None, head
    while len(body) < int(length.group(1)):
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_headers_over_16_kb_are_refused() -> None:
    """httptools, which the server extra installs, is given the bound by our protocol; h11
    (without httptools) bounds only headers it has to buffer: see docs/protocol.md."""
    limits = Limits()
    server = LiveServer(create_app(load_agent("shop"), limits=limits), **uvicorn_options(limits))
    with _started(server), _connect(server.url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)
        sock.sendall(b"\r\n\r\n")
        assert _until_closed(sock).startswith(b"HTTP/1.1 400 Bad Request")


def test_pipelined_requests_are_answered_then_the_idle_connection_is_closed(
    slow_limits_url: str,
) -> None:
    """Each request on a kept-alive connection gets its own deadline, armed once every
    request already in is answered; an idle connection is closed at the deadline."""
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with _connect(slow_limits_url) as sock:
        sock.sendall(request * 3)
        assert _until_closed(sock).count(b"HTTP/1.1 200 OK") == 3


def test_each_request_s_deadline_counts_from_the_answer_before_it() -> None:
    """A kept-alive connection's second request may come a deadline after the first
    answer, whenever the connection was made; an idle one is then closed at its deadline.
    (Sleeps far from the 2 s deadline: a loaded machine cannot move either side of it.)"""
    limits = Limits(header_seconds=2.0)
    server = LiveServer(create_app(load_agent("shop"), limits=limits), **uvicorn_options(limits))
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with _started(server), _connect(server.url) as sock:
        time.sleep(1.2)
        sock.sendall(request)
        assert _one_response(sock).startswith(b"HTTP/1.1 200 OK")
        time.sleep(1.2)  # 2.4 s after the connection was made, 1.2 s after the answer
        sock.sendall(request)
        assert _until_closed(sock).startswith(b"HTTP/1.1 200 OK")  # then closed when idle


def test_a_client_trickling_a_body_gets_408(slow_limits_url: str) -> None:
    with _connect(slow_limits_url) as sock:
        head = b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        head += b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        sock.sendall(head + b'{"messages": ')
        answer = b""
        while not answer.endswith(b"}") and (chunk := sock.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive within 0.5 seconds" in answer


def test_repeated_log_lines_are_held_back() -> None:
    now = [0.0]
    repeats = RepeatFilter(burst=3, window=60, clock=lambda: now[0])

    def passes(text: str) -> bool:
        record = logging.LogRecord("uvicorn.error", logging.WARNING, "", 0, text, (), None)
        return repeats.filter(record)

    assert [passes("Invalid HTTP request received.") for _ in range(10)] == [True] * 4 + [False] * 6
    assert passes("another line")
    now[0] = 61.0
    record = logging.LogRecord(
        "x", logging.WARNING, "", 0, "Invalid HTTP request received.", (), None
    )
    assert repeats.filter(record)
    assert "7 more like it" in record.getMessage()


def test_a_held_back_access_line_still_formats() -> None:
    """uvicorn's access formatter unpacks the record's five arguments."""
    repeats = RepeatFilter(burst=1, window=60, clock=lambda: 0.0)
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    args = ("127.0.0.1:5000", "POST", "/api/chat", "1.1", 200)
    records = [
        logging.LogRecord(
            "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
        )
        for _ in range(3)
    ]
    lines = [formatter.format(record) for record in records if repeats.filter(record)]
    assert lines == ['127.0.0.1:5000 - "POST /api/chat HTTP/1.1" 200 OK'] * 2
    assert records[1].getMessage().endswith(" 200 (repeated; held back for a minute)")


def test_connections_on_a_socket_made_without_a_protocol_number_get_no_delay() -> None:
    """The socket uvicorn shares between workers is made as socket(AF_INET, SOCK_STREAM):
    asyncio leaves TCP_NODELAY off on the connections it accepts."""
    assert asyncio.run(_accepted_no_delay())


async def _accepted_no_delay() -> int:
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    accepted: list[asyncio.BaseTransport] = []

    class Keep(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            no_delay(transport)
            accepted.append(transport)

    server = await loop.create_server(Keep, sock=listener)
    try:
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        while not accepted:
            await asyncio.sleep(0.01)
        writer.close()
        sock = accepted[0].get_extra_info("socket")
        return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        server.close()
        await server.wait_closed()


def test_workers_sharing_a_socket_take_one_waiting_connection_at_a_time() -> None:
    """Three clients connect at once: a worker's loop accepts one when the socket is
    ready and leaves two queued for the others (asyncio's own loop takes all three)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    listener.setblocking(False)  # as a served socket is
    loop = SharedSocketLoop()
    accepted: list[asyncio.BaseTransport] = []

    class Keep(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(transport)

    try:
        loop._accept_connection(Keep, listener)  # what the loop calls when it is ready
        loop.run_until_complete(asyncio.sleep(0.05))  # the accepted one is set up
        assert len(accepted) == 1
        listener.settimeout(5)
        left = [listener.accept()[0] for _ in range(2)]  # still queued, for another worker
        for sock in left:
            sock.close()
    finally:
        for transport in accepted:
            transport.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        for client in clients:
            client.close()
        listener.close()
