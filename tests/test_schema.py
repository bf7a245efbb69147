"""The JSON Schema of the session file (dcaf_cli/schemas) describes the files dcaf writes.

jsonschema is not a dependency, so a small checker below covers the subset of draft
2020-12 the schema uses; any other keyword is an error, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from dcaf_cli.conversation import Conversation
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.runtime.runner import run_sync
from dcaf_cli.store.filestore import SessionStore

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads(
    resources.files("dcaf_cli").joinpath("schemas/session-file.schema.json").read_text("utf-8")
)
ANNOTATIONS = {"$schema", "$defs", "title", "description"}
KEYWORDS = {"$ref", "type", "const", "enum", "minimum", "required", "properties", "items"}
TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def problems(value: Any, schema: dict[str, Any], at: str = "$") -> list[str]:
    """Where `value` breaks `schema`: the keywords in KEYWORDS, and additionalProperties
    only as `true` (unknown members are allowed everywhere)."""
    unknown = set(schema) - KEYWORDS - ANNOTATIONS - {"additionalProperties"}
    assert not unknown, f"{at}: the checker does not know {sorted(unknown)}"
    assert schema.get("additionalProperties", True) is True, f"{at}: additionalProperties"
    if "$ref" in schema:
        return problems(value, SCHEMA["$defs"][schema["$ref"].removeprefix("#/$defs/")], at)
    kinds = schema.get("type", list(TYPES))
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not any(TYPES[kind](value) for kind in kinds):
        return [f"{at}: {value!r:.60} is not {' or '.join(kinds)}"]
    out: list[str] = []
    if "const" in schema and (value != schema["const"] or type(value) is not type(schema["const"])):
        out.append(f"{at}: {value!r:.60} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{at}: {value!r:.60} is not one of {schema['enum']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        out.append(f"{at}: {value} is below {schema['minimum']}")
    if isinstance(value, dict):
        out += [
            f"{at}: {name!r} is missing" for name in schema.get("required", []) if name not in value
        ]
        for name, sub in schema.get("properties", {}).items():
            out += problems(value[name], sub, f"{at}.{name}") if name in value else []
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += problems(item, schema["items"], f"{at}[{i}]")
    return out


FILES = sorted(
    path
    for path in [*ROOT.glob("sessions/*.json"), *ROOT.glob("tests/golden/**/*.json")]
    if "dcaf_session" in json.loads(path.read_text("utf-8"))
)


def test_schema_is_draft_2020_12_and_names_every_field() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    fields = {"dcaf_session", "session", "messages", "turns", "meta"}
    assert set(SCHEMA["properties"]) == fields


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_shipped_and_golden_files_fit(path: Path) -> None:
    assert problems(json.loads(path.read_text("utf-8")), SCHEMA) == []


def test_a_freshly_saved_file_fits(tmp_path: Path) -> None:
    async def approve(pending: list[PendingToolCall]) -> list[Decision]:
        return [Decision(p.id, True) for p in pending]

    store = SessionStore(tmp_path / "fresh.json")
    conversation = Conversation(load_agent("deploy"), store.open(), store)
    for text in ("start a deployment to staging", "/add_service api 1.4.2", "execute it"):
        run_sync(conversation.send(text, approve))
    conversation.approve_always("add_service")
    conversation.edit("/set owner Ann", "owner", "Ann")
    conversation.close()
    saved = json.loads((tmp_path / "fresh.json").read_text("utf-8"))
    assert saved["meta"]["revision"] == 4
    assert [t["kind"] for t in saved["turns"]] == ["chat", "chat", "chat", "edit"]
    assert problems(saved, SCHEMA) == []


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (["dcaf_session"], 2, "$.dcaf_session: 2 is not 1"),
        (["meta", "revision"], -1, "$.meta.revision: -1 is below 0"),
        (["messages", 0, "role"], "robot", "$.messages[0].role: 'robot' is not one of"),
        (["turns", 0, "patch", 0, "op"], "append", "$.turns[0].patch[0].op: 'append'"),
        (["meta", "always_approve"], "all", "$.meta.always_approve: 'all' is not array"),
    ],
    ids=["future-format", "negative-revision", "unknown-role", "unknown-patch-op", "not-a-list"],
)
def test_the_schema_refuses_what_dcaf_refuses(path: list[Any], value: Any, problem: str) -> None:
    doc = copy.deepcopy(json.loads((ROOT / "tests/golden/session_v1.json").read_text("utf-8")))
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    found = problems(doc, SCHEMA)
    assert len(found) == 1
    assert found[0].startswith(problem)
