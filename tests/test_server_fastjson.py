"""The JSON fast paths of the server and the session (orjson when installed, `marshal` for
copies): the same results as the stdlib's, and the stdlib wherever they cannot tell."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import httpx
import pytest
from fakes.chat_client import chat, isolate, user
from fakes.live_server import JSON_HEADERS, LiveServer
from hypothesis import given
from hypothesis import strategies as st

from dcaf_cli import Session
from dcaf_cli.protocol import events
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app, jsonbody
from dcaf_cli.server.intake import HTTPProblem
from dcaf_cli.server.limits import DEFAULT_LIMITS
from dcaf_cli.session.jsonvalue import copy_json, same

scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # over 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)  # U+2028 and friends too
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=16,
)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)


def without_orjson(monkeypatch: pytest.MonkeyPatch, *modules: Any) -> None:
    for module in modules:
        monkeypatch.setattr(module, "fast_json", lambda: None)


@given(value=values, ascii_only=st.booleans())
def test_a_body_parses_to_the_same_values_with_or_without_orjson(
    value: Any, ascii_only: bool
) -> None:
    body = json.dumps({"messages": [], "v": value}, ensure_ascii=ascii_only).encode()
    fast = jsonbody.parse_json(body, DEFAULT_LIMITS)
    with pytest.MonkeyPatch.context() as patch:
        without_orjson(patch, jsonbody)
        slow = jsonbody.parse_json(body, DEFAULT_LIMITS)
    assert same(fast, slow)
    assert same(fast["v"], value)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"messages": [{"role": "user", "content": "\\ud800"}]}', "messages[0].content"),
        (b'{"messages": [], "n": 1e400}', "out of range"),
        (b'{"messages": [], "n": NaN}', "NaN"),
        (b'{"messages": [],}', "not valid JSON"),
    ],
)
def test_what_orjson_refuses_the_stdlib_explains(body: bytes, says: str) -> None:
    with pytest.raises(HTTPProblem, match=re.escape(says)) as refused:
        jsonbody.parse_json(body, DEFAULT_LIMITS)
    assert refused.value.status == 400


@given(value=values)
def test_a_reply_encodes_to_the_same_json_with_or_without_orjson(value: Any) -> None:
    fast = events.encode({"v": value})
    with pytest.MonkeyPatch.context() as patch:
        without_orjson(patch, events)
        slow = events.encode({"v": value})
    assert same(json.loads(fast), json.loads(slow))
    assert b"\xe2\x80\xa8" not in fast  # no line break a line reader would split on


def test_what_orjson_leaves_to_the_stdlib_is_not_json_data_as_before() -> None:
    assert json.loads(events.encode({"n": 2**70})) == {"n": 2**70}
    for value in (dt.datetime(2026, 1, 1), {1, 2}, object()):
        with pytest.raises(TypeError):
            events.encode({"v": value})
    assert events.encode({"v": math.nan}) == b'{"v":null}'  # as a session file writes it


def test_a_copy_keeps_every_type_and_shares_nothing() -> None:
    value: Any = {"a": [True, 1, 1.0, -0.0, 2**70, None, "\u2028"], "b": {"c": []}}
    copied: Any = copy_json(value)
    assert same(copied, value)
    copied["b"]["c"].append(1)
    assert value["b"]["c"] == []


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"k": 1}, {"k": 1}, True),
        ({"x": 1, "y": 2}, {"y": 2, "x": 1}, True),  # key order is not a difference
        ({"k": 1}, {"k": True}, False),
        ({"k": 1}, {"k": 1.0}, False),
        ([0.0], [-0.0], False),
        ([2**70], [2**70], True),
        ([2**70], [2**70 + 1], False),
        # orjson writes these as null: the comparison must not (a replay's arguments come
        # from json.loads, which reads NaN and Infinity)
        ([math.inf], [-math.inf], False),
        ({"n": math.nan}, {"n": None}, False),
        ([float("nan")], [float("nan")], False),
        ({"n": None, "m": [None]}, {"n": None, "m": [None]}, True),
    ],
)
def test_same_is_strict_at_c_speed_too(a: Any, b: Any, expected: bool) -> None:
    assert same(a, b) is expected


def test_replace_all_keeps_what_is_the_same_and_stores_what_is_not() -> None:
    session = Session({"history": [{"n": 1}], "flag": 1})
    history = session.data_view()["history"]
    with session.transaction() as tx:
        session.replace_all({"history": [{"n": 1}], "flag": True})
        assert session.data_view()["history"] is history  # not converted again
        assert set(tx.changes()) == {"flag"}
    assert session.to_dict() == {"history": [{"n": 1}], "flag": True}
    assert session.get("flag") is True


def client(url: str) -> httpx.Client:
    return httpx.Client(headers=JSON_HEADERS, base_url=url, timeout=10, trust_env=False)


def nested(levels: int) -> Any:
    value: Any = "core"
    for _ in range(levels):
        value = [value]
    return value


def test_sessions_round_trip_exactly_whichever_path_they_take() -> None:
    with LiveServer(create_app(load_agent("counter"))) as server, client(server.url) as http:
        big = {"id": 2**70, "ratio": 0.1, "flag": True, "deep": nested(300)}
        reply = chat(http, [user("hi", big)])  # 300 levels: more than orjson nests
        session = reply["data"]["session"]
        assert session["call_count"] == 1
        assert same({k: session[k] for k in big}, big)
        deeper = http.post("/api/chat", json={"messages": [user("hi", {"d": nested(900)})]})
    assert deeper.status_code in (400, 422)  # too deep for a Session, or for the parser
    assert "data.session" in deeper.json()["error"] or "nested" in deeper.json()["error"]
