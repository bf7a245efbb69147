"""`dcaf session export`: a session file as data for other programs, or as Markdown.

`session` is the session data (what a HelpDesk request carries in `data.session`, and what
`dcaf session new --from` reads); `messages` is the conversation as HelpDesk-protocol
messages; both are exact. `markdown` is a transcript for people: secrets are redacted
unless `reveal`, as in every other view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Literal

from dcaf_cli.session.jsontext import dumps
from dcaf_cli.session.redact import redact
from dcaf_cli.session.text import one_line, plural, visible_controls
from dcaf_cli.store.sessionfile import SessionFile

ExportFormat = Literal["session", "messages", "markdown"]
_ROLES = {"user": "User", "assistant": "Assistant", "system": "System"}


def export_document(doc: SessionFile, fmt: ExportFormat, *, source: str, reveal: bool) -> str:
    """The text `dcaf session export` prints, ending in a newline."""
    if fmt == "session":
        return to_json_text(doc.session)
    if fmt == "messages":
        return to_json_text(doc.messages)
    # Terminal control characters (but tab and newline) are written as `\x1b`, never
    # obeyed: the transcript is often printed to a terminal before it is saved anywhere.
    return visible_controls("\n".join(_markdown(doc, source, reveal))) + "\n"


def to_json_text(value: Any) -> str:
    """Indented JSON, non-ASCII kept as is (for people and `jq` alike), at any depth."""
    return dumps(value, indent=2) + "\n"


def _markdown(doc: SessionFile, source: str, reveal: bool) -> Iterator[str]:
    yield f"# Session {source}"
    yield ""
    facts = [f"revision {doc.revision}", plural(len(doc.turns), "turn")]
    facts += [f"{k} {doc.meta[k]}" for k in ("updated", "agent", "model") if doc.meta.get(k)]
    yield " · ".join(facts)
    for message in doc.messages:
        yield ""
        yield f"## {_ROLES.get(str(message.get('role')), str(message.get('role')))}"
        yield ""
        data = message.get("data") or {}
        calls = [_tool_call(call, reveal) for call in data.get("executed_tool_calls") or []]
        calls += [
            f"- waiting for approval: {_code(_signature(call, reveal))}"
            for call in data.get("tool_calls") or []
        ]
        if calls:
            yield from [*calls, ""]
        yield str(_shown(str(message.get("content", "")), reveal)).strip() or "_(no text)_"
    yield ""
    yield "## Session data"
    yield ""
    yield _fence(to_json_text(_shown(doc.session, reveal)).rstrip("\n"), "json")


def _shown(value: Any, reveal: bool, key: object = None) -> Any:
    return value if reveal else redact(value, key)


def _tool_call(call: dict[str, Any], reveal: bool) -> str:
    result = call.get("error") or call.get("output") or ""
    mark = "failed:" if call.get("error") else "→"
    return f"- {_code(_signature(call, reveal))} {mark} {_code(str(_shown(str(result), reveal)))}"


def _signature(call: dict[str, Any], reveal: bool) -> str:
    arguments = call.get("input") or {}
    parts = [
        f"{k}={json.dumps(_shown(v, reveal, k), ensure_ascii=False)}" for k, v in arguments.items()
    ]
    return f"{call.get('name', '?')}({', '.join(parts)})"


def _code(text: str) -> str:
    """`text` as an inline code span that its own backticks cannot close."""
    text = one_line(text)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(text: str, info: str) -> str:
    ticks = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`{3,}", text)), default=3))
    return f"{ticks}{info}\n{text}\n{ticks}"
