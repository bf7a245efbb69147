"""Property-based fuzzing of the live server: no body ever gets a 5xx, every answer has the
protocol's shape, and no mutation of an approval makes a tool run that should not."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fakes.chat_client import decision, isolate, reach_approval
from fakes.live_server import JSON_HEADERS, serving
from fakes.server_agents import RUNS, counted_deploy
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PATHS = ["/api/chat", "/api/sendMessage", "/api/chat-stream", "/api/sendMessageStream", "/health"]


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, httpx.Client]]:
    apps = {
        "deploy": create_app(counted_deploy()),
        "counter": create_app(load_agent("counter")),
        "signed": create_app(load_agent("shop"), secret="fuzz", max_body_bytes=20_000),
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


# -- strategies --------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.text(max_size=6), json_values, max_size=3)
contents = st.sampled_from(
    ["add 2 widgets", "checkout", "/add_service api 1", "/execute_deployment", "execute", ""]
) | st.text(max_size=30)
tool_calls = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["offline-1", "direct-1", "x"]) | json_values,
        "name": st.sampled_from(["execute_deployment", "add_service", "nope"]) | json_values,
    },
    optional={
        "input": objects | json_values,
        "execute": st.booleans() | json_values,
        "rejection_reason": st.none() | st.text(max_size=8),
        "signature": st.text(max_size=20) | st.sampled_from(["v1.1.AAAA", "v2.1.nonce.AAAA"]),
        "intent": st.sampled_from(["approval", "missing_arguments"]) | json_values,
    },
)
datas = st.fixed_dictionaries(
    {},
    optional={
        "session": objects | json_values,
        "tool_calls": st.lists(tool_calls, max_size=2) | json_values,
        "executed_tool_calls": st.lists(objects, max_size=2),
        "session_signature": st.text(max_size=10) | json_values,
        "direct": st.booleans(),
    },
)
junk_messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool"]) | json_values},
    optional={"content": contents | json_values, "data": datas | json_values},
)
good_messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"]), "content": contents},
    optional={"data": st.fixed_dictionaries({}, optional={"session": objects})},
)
messages = good_messages | junk_messages
requests = st.fixed_dictionaries(
    {"messages": st.lists(messages, min_size=1, max_size=4) | json_values},
    optional={"tenant": json_values, "stream": json_values},
)
bodies = (
    requests.map(lambda r: json.dumps(r).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=40)
)


# -- properties --------------------------------------------------------------------------


def check_answer(response: httpx.Response, path: str) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert isinstance(response.json()["error"], str)
    elif path == "/health":
        assert response.json()["status"] == "ok"
    elif "Stream" in path or "stream" in path:
        lines = response.content.split(b"\n")
        assert lines.pop() == b""
        events = [json.loads(line) for line in lines]
        assert events[-1]["type"] == "done"
        assert isinstance(events[-1]["message"]["data"]["session"], dict)
    else:
        message = response.json()
        assert message["role"] == "assistant"
        assert isinstance(message["data"]["session"], dict)


@FUZZ
@given(
    server=st.sampled_from(["deploy", "counter", "signed"]),
    path=st.sampled_from(PATHS),
    body=bodies,
)
def test_no_request_gets_a_5xx(
    clients: dict[str, httpx.Client], server: str, path: str, body: bytes
) -> None:
    response = clients[server].post(path, content=body)
    event(f"status {response.status_code}")
    check_answer(response, path)


@settings(FUZZ, max_examples=100)
@given(
    server=st.sampled_from(["deploy", "counter", "signed"]),
    path=st.sampled_from(PATHS[:4]),
    conversation=st.lists(good_messages, min_size=1, max_size=4),
)
def test_well_formed_requests_get_an_answer(
    clients: dict[str, httpx.Client], server: str, path: str, conversation: list[Any]
) -> None:
    response = clients[server].post(path, json={"messages": conversation})
    event(f"status {response.status_code}")
    check_answer(response, path)
    # The session is the most recent message's `data.session`, whatever its role.
    sessions = [
        m["data"]["session"]
        for m in conversation
        if m.get("data", {}).get("session")
        or ("session" in m.get("data", {}) and m["role"] == "assistant")
    ]
    carried = sessions[-1] if sessions else None
    unsigned = server == "signed" and bool(carried)  # a session the server did not sign
    assert response.status_code == (403 if unsigned else 200)


def approval(clients: dict[str, httpx.Client]) -> list[dict[str, Any]]:
    """A valid approving conversation, to mutate (a new proposal each time: each is
    single-use, so one run must not hide the next)."""
    history, paused = reach_approval(clients["deploy"])
    return decision(history, paused)


# Every field that decides what runs: (message index from the end, path inside it, values).
# The call is proposed three times over: the paused message's `tool_calls` and `approvals`,
# and the decision, whose id carries the signature. A copy may be changed or dropped as long
# as another still proves the proposal; what runs must always be the proposal, once.
words = st.text(max_size=12) | st.sampled_from(["offline-1", "execute_deployment", "approval"])
GUARDED = [
    (-2, ("data", "tool_calls", 0, "id"), words),
    (-2, ("data", "tool_calls", 0, "name"), words),
    (-2, ("data", "tool_calls", 0, "input"), objects),
    (-2, ("data", "tool_calls", 0, "signature"), words),
    (-2, ("data", "tool_calls", 0, "intent"), words),
    (-2, ("data", "approvals", 0, "id"), words),
    (-2, ("data", "approvals", 0, "input"), objects),
    (-1, ("data", "tool_calls", 0, "id"), words),
    (-1, ("data", "tool_calls", 0, "name"), words),
    (-1, ("data", "tool_calls", 0, "input"), objects),
    (-1, ("data", "tool_calls", 0, "signature"), words),
    (-1, ("data", "session"), objects),
]


def _get(message: dict[str, Any], path: tuple[Any, ...]) -> Any:
    for part in path:
        message = message[part]
    return message


@settings(FUZZ, max_examples=80)
@given(where=st.sampled_from(range(len(GUARDED))), data=st.data())
def test_a_mutated_approval_runs_nothing_but_the_proposal(
    clients: dict[str, httpx.Client], where: int, data: st.DataObject
) -> None:
    index, path, values = GUARDED[where]
    value = data.draw(values | json_values, label=".".join(map(str, path)))
    conversation = approval(clients)
    proposed_with = conversation[-1]["data"]["session"]
    target = _get(conversation[index], path[:-1])
    assume(json.dumps(target[path[-1]], sort_keys=True) != json.dumps(value, sort_keys=True))
    target[path[-1]] = value
    runs = len(RUNS)
    for _ in range(2):  # and a replay of the same request
        response = clients["deploy"].post("/api/chat", json={"messages": conversation})
        event(f"status {response.status_code}")
        check_answer(response, "/api/chat")
    assert RUNS[runs:] in ([], [proposed_with])
    # The decision's own call changed (a user message's empty or null session is no
    # session: the one the history carries, the proposal's, is read instead).
    if index == -1 and path[-1] in ("name", "input", "session") and value not in ({}, None):
        assert RUNS[runs:] == []


def test_the_unmutated_approval_runs(clients: dict[str, httpx.Client]) -> None:
    runs = len(RUNS)
    response = clients["deploy"].post("/api/chat", json={"messages": approval(clients)})
    assert response.status_code == 200
    assert len(RUNS) == runs + 1


# -- hostile payloads: lone surrogates, deep nesting, huge numbers -------------------------

surrogates = st.text(
    alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    | st.sampled_from("ab /\U0001f600"),
    min_size=1,
    max_size=6,
)
huge_numbers = st.sampled_from(["1e999", "-1e999", "1e-999", "9" * 5000, "-" + "9" * 4301])
hostile_leaves = (
    surrogates.map(json.dumps)  # ASCII JSON: a lone surrogate becomes a \udXXX escape
    | huge_numbers
    | st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
    | st.integers(1, 400).map(lambda n: '{"a":' * n + "1" + "}" * n)
    | st.sampled_from(['"\xed\xa0\x80"', '"\\ud800\\udc00"', '"\\udc00\\ud800"'])
)
benign_contents = contents.map(json.dumps)
benign_leaves = json_values.map(json.dumps)


def hostile_body(slots: list[str], hostile: str, where: int) -> bytes:
    """A chat request with hostile text spliced into one of the places a client controls
    (content, session value, context, role), or into none (`where` past the end)."""
    if where < len(slots):
        slots[where] = hostile
    content, value, extra, role = slots
    session = f'{{"session":{{"k":{value}}}}}'
    message = f'{{"role":{role},"content":{content},"data":{session}}}'
    return f'{{"messages":[{message}],"tenant":{extra}}}'.encode("utf-8", "surrogatepass")


hostile_bodies = st.builds(
    hostile_body,
    slots=st.tuples(benign_contents, benign_leaves, benign_leaves, st.just('"user"')).map(list),
    hostile=hostile_leaves,
    where=st.integers(0, 4),
) | hostile_leaves.map(lambda text: text.encode("utf-8", "surrogatepass"))


CASES_PER_EXAMPLE = 5  # 1,000 examples of 5 requests: 5,000 payloads, less overhead


@pytest.mark.timeout(600)  # ~40 s alone; more on a machine busy with other work
@settings(FUZZ, max_examples=1000)
@given(
    cases=st.lists(
        st.tuples(
            st.sampled_from(["deploy", "counter", "signed"]),
            st.sampled_from(PATHS[:4]),
            hostile_bodies,
        ),
        min_size=CASES_PER_EXAMPLE,
        max_size=CASES_PER_EXAMPLE,
    )
)
def test_hostile_payloads_get_no_5xx_and_streams_end(
    clients: dict[str, httpx.Client], cases: list[tuple[str, str, bytes]]
) -> None:
    for server, path, body in cases:
        response = clients[server].post(path, content=body)
        event(f"status {response.status_code}")
        check_answer(response, path)
