"""The session file format: parsing (strict, one-line errors), dumping, the golden file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from dcaf_cli.errors import SessionFileError, UsageError
from dcaf_cli.store.sessionfile import (
    FORMAT_VERSION,
    SessionFile,
    dump_session_document,
    new_session_file,
    parse_session_document,
)

GOLDEN = Path(__file__).parent / "golden" / "session_v1.json"
SOURCE = "sessions/x.json"


def parse(data: bytes | str) -> SessionFile:
    return parse_session_document(data, source=SOURCE)


def parse_error(data: bytes | str) -> str:
    with pytest.raises(SessionFileError) as info:
        parse(data)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(SOURCE)
    return message


# -- the golden file -------------------------------------------------------------------


def test_golden_file_round_trips_byte_for_byte() -> None:
    golden = GOLDEN.read_bytes()
    assert dump_session_document(parse_session_document(golden, source=str(GOLDEN))) == golden


def test_golden_file_has_the_documented_layout() -> None:
    document = json.loads(GOLDEN.read_bytes())
    assert list(document) == ["dcaf_session", "session", "messages", "turns", "meta"]
    assert document["dcaf_session"] == FORMAT_VERSION
    assert list(document["meta"])[:3] == ["revision", "created", "updated"]
    turn = document["turns"][0]
    assert list(turn) == [
        "n", "at", "input", "kind", "tool_calls", "reply", "patch", "undo", "messages"
    ]  # fmt: skip


def test_dump_is_indented_utf8_with_one_trailing_newline() -> None:
    doc = new_session_file(agent="a", model="offline")
    doc.session = {"note": "café – ✅", "n": [1, 2.5, None, True]}
    out = dump_session_document(doc)
    assert out.endswith(b"}\n")
    assert not out.endswith(b"\n\n")
    assert "café – ✅".encode() in out  # not \u escapes: people read these files
    assert b'\n  "session": {\n    "note"' in out
    assert json.loads(out)["session"] == doc.session


def test_round_trip_keeps_numbers_and_unknown_keys() -> None:
    text = json.dumps(
        {
            "dcaf_session": 1,
            "session": {"big": 2**80, "small": 0.1, "huge": 1e300, "neg": -3},
            "messages": [],
            "turns": [],
            "meta": {"revision": 4, "mine": {"x": 1}},
            "annotations": ["kept by a future minor version or a person"],
        }
    )
    doc = parse(text)
    assert doc.extra == {"annotations": ["kept by a future minor version or a person"]}
    again = parse(dump_session_document(doc))
    assert again.session == {"big": 2**80, "small": 0.1, "huge": 1e300, "neg": -3}
    assert again.meta == {"revision": 4, "mine": {"x": 1}}
    assert again.extra == doc.extra
    assert again.revision == 4


# -- what loads ------------------------------------------------------------------------


def test_bare_object_loads_as_session_data_with_a_notice() -> None:
    doc = parse(b'{"cart": [{"item": "Widget", "quantity": 2}]}')
    assert doc.session == {"cart": [{"item": "Widget", "quantity": 2}]}
    assert doc.messages == []
    assert doc.turns == []
    assert doc.revision == 0
    assert doc.notice is not None
    assert "\n" not in doc.notice
    assert SOURCE in doc.notice
    assert "not the dcaf format" in doc.notice


def test_bare_object_is_written_back_in_the_full_format() -> None:
    doc = parse(b'{"step": 2}')
    assert list(json.loads(dump_session_document(doc))) == [
        "dcaf_session", "session", "messages", "turns", "meta"
    ]  # fmt: skip


@pytest.mark.parametrize("text", [b"", b"  \n", ""])
def test_empty_text_is_a_new_session(text: bytes | str) -> None:
    doc = parse(text)
    assert doc.session == {}
    assert doc.revision == 0
    assert doc.notice


def test_missing_fields_default_to_empty() -> None:
    doc = parse(b'{"dcaf_session": 1}')
    assert (doc.session, doc.messages, doc.turns, doc.meta) == ({}, [], [], {})


def test_byte_order_mark_and_str_input_are_accepted() -> None:
    assert parse(b'\xef\xbb\xbf{"a": 1}').session == {"a": 1}
    assert parse('\ufeff{"a": "é"}').session == {"a": "é"}


def test_nesting_deeper_than_pydantic_core_parses_still_round_trips() -> None:
    deep: object = "bottom"
    for _ in range(400):
        deep = [deep]
    doc = parse(json.dumps({"dcaf_session": 1, "session": {"deep": deep}}))
    assert parse(dump_session_document(doc)).session == {"deep": deep}


# -- what does not ---------------------------------------------------------------------

BAD_DOCUMENTS = {
    "corrupt": (b'{"a": 1,\n "b": }', ["line 2 column 7", "not valid JSON", "move it aside"]),
    "truncated": (b'{"dcaf_session": 1, "session": {"a": [1, 2', ["line 1 column", "too early"]),
    "trailing": (b'{"a": 1} x', ["line 1 column 10"]),
    "control": (b'{"a": "x\ny"}', ["line 1 column 9", "control character"]),
    "list": (b"[1, 2]", ["holds a list", "JSON object"]),
    "string": (b'"hello"', ["holds a string"]),
    "null": (b"null", ["holds null"]),
    "future": (b'{"dcaf_session": 2, "session": {}}', ["newer dcaf", "format 2", "upgrade"]),
    "version zero": (b'{"dcaf_session": 0}', ["not a known format"]),
    "version text": (b'{"dcaf_session": "1"}', ["must be a format number, not a string"]),
    "version bool": (b'{"dcaf_session": true}', ["must be a format number"]),
    "session list": (b'{"dcaf_session": 1, "session": []}', ['"session" must be an object']),
    "messages obj": (b'{"dcaf_session": 1, "messages": {}}', ['"messages" must be a list']),
    "turns str": (b'{"dcaf_session": 1, "turns": "x"}', ['"turns" must be a list']),
    "turn item": (b'{"dcaf_session": 1, "turns": [{}, 3]}', ['"turns"[1] must be an object']),
    "message item": (b'{"dcaf_session": 1, "messages": [null]}', ['"messages"[0]']),
    "meta list": (b'{"dcaf_session": 1, "meta": []}', ['"meta" must be an object']),
    "revision": (b'{"dcaf_session": 1, "meta": {"revision": "3"}}', ['"revision"']),
    "approve": (b'{"dcaf_session": 1, "meta": {"always_approve": [1]}}', ["always_approve"]),
    "utf8": (b'{"a":\n "caf\xe9"}', ["line 2 column 6", "not UTF-8", "save it as UTF-8"]),
    "nan": (b'{"a": NaN}', ["line 1 column 7", "NaN is not valid JSON"]),
    "infinity": (b'{"a": [1,\n Infinity]}', ["line 2 column 2", "Infinity is not valid"]),
    "-infinity": (b'{"a": -Infinity}', ["-Infinity is not valid JSON"]),
    "surrogate": (b'{"a": "\\ud800"}', ["line 1 column", "not valid JSON"]),
    "deep lists": (b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
    "deep objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, ["nested too deeply"]),
    "deep open": (b"[" * 100_000, ["nested too deeply"]),
}


@pytest.mark.parametrize(("data", "expected"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_bad_documents_are_one_line_errors(data: bytes, expected: list[str]) -> None:
    message = parse_error(data)
    for part in expected:
        assert part in message
    assert "; " in message  # what is wrong; what to do


def test_size_limit_names_the_variable_that_raises_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCAF_MAX_FILE_MB", "0.001")
    message = parse_error(b'{"a": "' + b"x" * 2000 + b'"}')
    assert "over the 0.001 MB limit" in message
    assert "DCAF_MAX_FILE_MB" in message
    monkeypatch.setenv("DCAF_MAX_FILE_MB", "1")
    assert parse(b'{"a": "' + b"x" * 2000 + b'"}').session


@pytest.mark.parametrize("value", ["lots", "0", "-5", "inf", "nan"])
def test_a_bad_size_limit_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DCAF_MAX_FILE_MB", value)
    with pytest.raises(UsageError, match="DCAF_MAX_FILE_MB"):
        parse(b"{}")


# -- what cannot be written ------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_dump_writes_null_for_nan_and_infinity(bad: float) -> None:
    # Session refuses these; one in a record must not make every later save fail.
    doc = new_session_file()
    doc.turns = [cast(Any, {"n": 1, "tool_calls": [{"input": {"x": [1, bad]}}]})]  # a bare record
    assert parse(dump_session_document(doc)).turns[0]["tool_calls"][0]["input"] == {"x": [1, None]}


def test_a_number_too_large_for_a_float_is_refused_on_load() -> None:
    # Read as infinity, it would silently become null on the next save.
    for number in (b"1e400", b"-1E+999", b"1" + b"0" * 400 + b".5"):
        with pytest.raises(SessionFileError, match="too large for a 64-bit float"):
            parse(b'{"dcaf_session": 1, "turns": [{"x": ' + number + b"}]}")
    assert parse(b'{"dcaf_session": 1, "session": {"x": 1e300, "t": "1e999"}}').session == {
        "x": 1e300,
        "t": "1e999",
    }


def test_words_nan_and_infinity_in_text_are_data() -> None:
    doc = new_session_file()
    doc.session = {"NaN": "Infinity", "list": ["NaN", "-Infinity"]}
    assert parse(dump_session_document(doc)).session == doc.session


def test_dump_refuses_values_json_cannot_hold() -> None:
    doc = new_session_file()
    deep: object = object()
    for _ in range(300):  # past pydantic_core's depth, so the stdlib encoder decides
        deep = [deep]
    doc.session = {"x": deep}
    with pytest.raises(SessionFileError, match="JSON cannot store"):
        dump_session_document(doc)
