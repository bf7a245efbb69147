"""Turn records, undo and replay; JSON Patch properties; the example session files.

Run this file as a script to regenerate `sessions/shop.json` and `sessions/deploy.json`
from the real example tools: `.venv/bin/python tests/test_history.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcaf_cli.errors import SessionFileError, UsageError
from dcaf_cli.session import diff
from dcaf_cli.session.session import Session
from dcaf_cli.store.filestore import (
    SessionFile,
    dump_session_document,
    new_session_file,
    read_session_file,
)
from dcaf_cli.store.history import record_turn, session_at_turn, undo_turns
from dcaf_cli.store.records import turn_contents
from dcaf_cli.store.sessionfile import TurnRecord

SESSIONS = Path(__file__).resolve().parent.parent / "sessions"
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def chat_turn(doc: SessionFile, text: str, after: dict[str, Any]) -> TurnRecord:
    """Do what the runtime does: update session and messages, then record the turn."""
    changes = diff.diff_sessions(doc.session, after)
    doc.session = copy.deepcopy(after)
    added = [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]
    doc.messages.extend(added)
    return record_turn(doc, input=text, changes=changes, tool_calls=[], reply="ok", messages=added)


# -- record_turn -----------------------------------------------------------------------


def test_record_turn_appends_a_complete_record() -> None:
    doc = new_session_file()
    record = chat_turn(doc, "add 2 widgets", {"cart": [{"item": "Widget", "quantity": 2}]})
    assert doc.turns == [record]
    # The reply and the calls are in the last message; the record points at it (the
    # fields of the type mypy checks readers against, but those only some records have).
    assert list(record) == ["n", "at", "input", "kind", "patch", "undo", "messages"]
    assert set(record) == set(TurnRecord.__annotations__) - {
        "approved_always", "tool_calls", "reply"
    }  # fmt: skip
    assert record["n"] == 1
    assert record["kind"] == "chat"
    assert record["messages"] == 2
    assert record["at"].endswith("Z")
    assert turn_contents(doc)[0].reply == "ok"
    assert record["patch"] == [
        {"op": "add", "path": "/cart", "value": [{"item": "Widget", "quantity": 2}]}
    ]
    assert record["undo"] == [{"op": "remove", "path": "/cart"}]
    assert chat_turn(doc, "more", {"cart": []})["n"] == 2


def test_record_turn_without_messages_or_changes() -> None:
    doc = new_session_file()
    record = record_turn(doc, input="/set x 1", changes=[], tool_calls=[], reply=None, kind="edit")
    assert (record["messages"], record["patch"], record["undo"], record["kind"]) == (
        0, [], [], "edit"
    )  # fmt: skip


def test_recorded_patches_do_not_share_objects_with_the_session() -> None:
    doc = new_session_file()
    doc.session = {"cart": [{"item": "a"}]}
    after: dict[str, Any] = {"cart": [{"item": "a"}, {"item": "b"}]}
    record = record_turn(
        doc,
        input="x",
        changes=diff.diff_sessions(doc.session, after),
        tool_calls=[],
        reply=None,
    )
    doc.session = after
    after["cart"][1]["item"] = "changed in place"
    assert record["patch"][0]["value"] == {"item": "b"}


# -- undo_turns ------------------------------------------------------------------------


def three_turns() -> tuple[SessionFile, list[dict[str, Any]]]:
    doc = new_session_file()
    doc.session = {"existing": True}  # as if loaded from a bare object
    states = [copy.deepcopy(doc.session)]
    turns: list[dict[str, Any]] = [
        {"existing": True, "cart": [1]},
        {"existing": True, "cart": [1, 2]},
        {"cart": [2], "done": {"at": "now"}},
    ]
    for i, after in enumerate(turns):
        chat_turn(doc, f"turn {i + 1}", after)
        states.append(after)
    return doc, states


def test_undo_reverses_the_last_turn() -> None:
    doc, states = three_turns()
    removed = undo_turns(doc)
    assert [t["n"] for t in removed] == [3]
    assert doc.session == states[2]
    assert len(doc.turns) == 2
    assert len(doc.messages) == 4
    assert chat_turn(doc, "again", {"x": 1})["n"] == 3


def test_undo_several_turns_returns_them_oldest_first() -> None:
    doc, states = three_turns()
    removed = undo_turns(doc, 3)
    assert [t["n"] for t in removed] == [1, 2, 3]
    assert doc.session == states[0] == {"existing": True}
    assert doc.turns == []
    assert doc.messages == []


@pytest.mark.parametrize(("have", "ask", "message"), [
    (2, 3, "the file has only 2 turns"),
    (1, 2, "the file has only 1 turn"),
    (0, 1, "cannot undo 1 turn: the file has no turns"),
    (2, 0, "1 or more"),
])  # fmt: skip
def test_undo_more_than_there_is_is_a_usage_error(have: int, ask: int, message: str) -> None:
    doc = new_session_file()
    for i in range(have):
        chat_turn(doc, "t", {"i": i})
    with pytest.raises(UsageError, match=message):
        undo_turns(doc, ask)
    assert len(doc.turns) == have


def test_a_broken_undo_patch_changes_nothing() -> None:
    doc, _ = three_turns()
    doc.turns[1]["undo"] = [{"op": "remove", "path": "/nowhere/0"}]
    before = (copy.deepcopy(doc.session), len(doc.messages), len(doc.turns))
    with pytest.raises(SessionFileError, match=r"cannot undo turn 2: .*nothing was changed"):
        undo_turns(doc, 2)
    assert (doc.session, len(doc.messages), len(doc.turns)) == before


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t.update(undo="not a patch"),
        lambda t: t.update(undo=[{"op": "remove", "path": ""}]),
        lambda t: t.update(messages=-1),
        lambda t: t.update(messages=99),
    ],
)
def test_damaged_records_are_file_errors(damage: Callable[[dict[str, Any]], None]) -> None:
    doc, _ = three_turns()
    damage(cast(dict[str, Any], doc.turns[-1]))
    with pytest.raises(SessionFileError, match="cannot undo turn 3"):
        undo_turns(doc)


# -- session_at_turn -------------------------------------------------------------------


def test_session_at_each_turn_rebuilds_history_from_the_present() -> None:
    doc, states = three_turns()
    for n, state in enumerate(states):
        assert session_at_turn(doc, n) == state
    assert doc.session == states[-1]  # a query: the session itself is untouched


def test_session_at_turn_returns_a_copy() -> None:
    doc, _ = three_turns()
    session_at_turn(doc, 3)["cart"].append("mutated")
    assert doc.session["cart"] == [2]


@pytest.mark.parametrize("n", [-1, 4, 99])
def test_session_at_a_missing_turn_is_a_usage_error(n: int) -> None:
    doc, _ = three_turns()
    with pytest.raises(UsageError, match=f"there is no turn {n}: the file has turns 1 to 3"):
        session_at_turn(doc, n)


def test_session_at_turn_follows_recorded_numbers_after_undo() -> None:
    doc, states = three_turns()
    undo_turns(doc)
    chat_turn(doc, "new third", {"fresh": 1})
    assert session_at_turn(doc, 2) == states[2]
    assert session_at_turn(doc, 3) == {"fresh": 1}


# -- properties ------------------------------------------------------------------------

# Few distinct keys and values, so that before and after share structure; among them the
# keys JSON Pointer must escape or must not mistake for list indices.
KEYS = st.sampled_from(["a", "b", "c", "0", "1", "01", "", "a/b", "~1", "-", "²", "é"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.sampled_from("ab~/é"), max_size=3)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=10,
)
SESSIONS_ = st.dictionaries(KEYS, VALUES, max_size=5)


@st.composite
def edited(draw: st.DrawFn, value: Any) -> Any:
    """A value close to `value`: the small edits turns make, not a wholesale replacement."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(VALUES)
    if isinstance(value, dict):
        out = {k: draw(edited(v)) for k, v in value.items() if draw(st.integers(0, 5))}
        out.update(draw(st.dictionaries(KEYS, VALUES, max_size=2)))
        return out
    if isinstance(value, list):
        items = [draw(edited(v)) for v in value if draw(st.integers(0, 4))]
        for _ in range(draw(st.integers(0, 2))):
            items.insert(draw(st.integers(0, len(items))), draw(VALUES))
        return items
    return value


@st.composite
def session_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    before = draw(SESSIONS_)
    after = draw(edited(before)) if draw(st.booleans()) else draw(SESSIONS_)
    return before, after if isinstance(after, dict) else {"replaced": after}


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: `true` is not `1`; `1` and `1.0` are the same number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if type(a) in numbers and type(b) in numbers:
        return bool(a == b)
    return type(a) is type(b) and a == b


@PROPERTY
@given(session_pairs())
def test_patch_and_undo_agree_with_the_jsonpatch_library(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    before, after = pair
    changes = diff.diff_sessions(before, after)
    forward = jsonpatch.JsonPatch(diff.to_patch(changes)).apply(before)
    assert json_equal(forward, after)
    backward = jsonpatch.JsonPatch(diff.to_undo(changes)).apply(after)
    assert json_equal(backward, before)


@PROPERTY
@given(session_pairs())
def test_patch_and_undo_round_trip_through_apply_patch(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    before, after = pair
    changes = diff.diff_sessions(before, after)
    assert json_equal(diff.apply_patch(copy.deepcopy(before), diff.to_patch(changes)), after)
    assert json_equal(diff.apply_patch(copy.deepcopy(after), diff.to_undo(changes)), before)


@settings(PROPERTY, max_examples=50)
@given(SESSIONS_, st.integers(1, 4), st.data())
def test_turns_record_undo_and_replay(
    start: dict[str, Any], turns: int, data: st.DataObject
) -> None:
    doc = new_session_file()
    doc.session = copy.deepcopy(start)
    doc.messages = [{"role": "user", "content": "from before"}]
    states = [copy.deepcopy(start)]
    for _ in range(turns):
        after = data.draw(edited(states[-1]))
        chat_turn(doc, "t", after if isinstance(after, dict) else {"v": after})
        states.append(copy.deepcopy(doc.session))
    for n, state in enumerate(states):
        assert json_equal(session_at_turn(doc, n), state)
    back = data.draw(st.integers(1, turns))
    undo_turns(doc, back)
    assert json_equal(doc.session, states[-1 - back])
    assert len(doc.turns) == turns - back
    assert len(doc.messages) == 1 + 2 * len(doc.turns)
    if doc.turns:
        undo_turns(doc, len(doc.turns))
    assert json_equal(doc.session, start)
    assert doc.messages[0]["content"] == "from before"


# -- the example session files ---------------------------------------------------------


@pytest.mark.parametrize("name", ["shop.json", "deploy.json"])
def test_example_sessions_load_and_replay(name: str) -> None:
    doc = read_session_file(SESSIONS / name)
    assert doc.notice is None
    assert doc.revision == len(doc.turns) == 2
    assert sum(t["messages"] for t in doc.turns) == len(doc.messages)
    assert session_at_turn(doc, 0) == {}
    for turn in doc.turns:  # each forward patch takes the state before a turn to after it
        before = session_at_turn(doc, turn["n"] - 1)
        assert jsonpatch.apply_patch(before, turn["patch"]) == session_at_turn(doc, turn["n"])
    assert dump_session_document(doc) == (SESSIONS / name).read_bytes()


def test_example_sessions_are_what_the_example_tools_produce() -> None:
    for name, built in build_examples().items():
        on_disk = read_session_file(SESSIONS / name)
        assert (built.session, built.messages) == (on_disk.session, on_disk.messages)
        strip = [{k: v for k, v in t.items() if k != "at"} for t in built.turns]
        assert strip == [{k: v for k, v in t.items() if k != "at"} for t in on_disk.turns]


def test_shop_example_is_half_way() -> None:
    assert read_session_file(SESSIONS / "shop.json").session == {
        "cart": [{"item": "Widget", "quantity": 2}, {"item": "Gadget", "quantity": 1}]
    }
    deploy = read_session_file(SESSIONS / "deploy.json")
    assert deploy.session["deployment"]["step"] == "services_added"
    assert deploy.meta["agent"] == "dcaf_cli.examples.deploy"


def build_examples() -> dict[str, SessionFile]:
    """The example files, made by running the real example tools through record_turn."""
    from dcaf_cli.examples import deploy, shop

    scripts: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {
        "shop.json": [
            ("add 2 widgets to my cart", shop.add_to_cart, {"item": "Widget", "quantity": 2}),
            ("and a gadget", shop.add_to_cart, {"item": "Gadget", "quantity": 1}),
        ],
        "deploy.json": [
            ("start a deployment to staging", deploy.start_deployment, {"environment": "staging"}),
            ("add api 1.4.2", deploy.add_service, {"service_name": "api", "version": "1.4.2"}),
        ],
    }
    return {
        name: _run_script(f"dcaf_cli.examples.{name.removesuffix('.json')}", script)
        for name, script in scripts.items()
    }


def _run_script(agent: str, script: list[tuple[str, Any, dict[str, Any]]]) -> SessionFile:
    doc = new_session_file(agent=agent, model="offline")
    for i, (text, tool, arguments) in enumerate(script, start=1):
        session = Session(doc.session)
        output = tool(**arguments, session=session)
        after = session.to_dict()
        call = {"id": f"call_{i}", "name": tool.name, "input": arguments, "output": output}
        data = {"tool_calls": [], "executed_tool_calls": [call]}
        added = [
            {"role": "user", "content": text},
            {"role": "assistant", "content": output, "data": data},
        ]
        changes = diff.diff_sessions(doc.session, after)
        doc.session = after
        doc.messages.extend(added)
        record_turn(
            doc, input=text, changes=changes, tool_calls=[call], reply=output, messages=added
        )
        doc.turns[-1]["at"] = f"2026-11-25T12:0{i}:00Z"
    doc.meta = {
        "revision": len(script),  # as if saved once per turn
        "created": doc.turns[0]["at"],
        "updated": doc.turns[-1]["at"],
        "agent": agent,
        "model": "offline",
    }
    return doc


if __name__ == "__main__":
    for file_name, example in build_examples().items():
        (SESSIONS / file_name).write_bytes(dump_session_document(example))
        print(f"wrote sessions/{file_name}")
