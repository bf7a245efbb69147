"""A session file at a glance (`dcaf session show`): its facts, then its data as a tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from dcaf_cli.render.session import render_facts, render_session_tree
from dcaf_cli.render.text import literal
from dcaf_cli.session.text import plural
from dcaf_cli.store.approvals import standing
from dcaf_cli.store.sessionfile import SessionFile

if TYPE_CHECKING:
    from dcaf_cli.store.validation import Validation


def file_facts(doc: SessionFile, source: str, *, turn: int | None = None) -> list[tuple[str, str]]:
    """`(name, value)` rows: the file, its revision, turns, times, agent and model."""
    last = doc.turns[-1].get("n", len(doc.turns)) if doc.turns else 0
    facts = [
        ("file", source),
        ("revision", str(doc.revision)),
        ("turns", f"{len(doc.turns)} (last: {last})" if doc.turns else "0"),
        ("messages", str(len(doc.messages))),
    ]
    facts += [(name, str(doc.meta[name])) for name in ("created", "updated") if name in doc.meta]
    facts += [(name, str(doc.meta.get(name) or "-")) for name in ("agent", "model")]
    if standing(doc):  # consent must be visible: these tools run without asking
        facts.append(("approved always", ", ".join(standing(doc))))
    if turn is not None:
        facts.append(("shown", f"the session after turn {turn}" if turn else "before turn 1"))
    return facts


def render_file(
    doc: SessionFile,
    data: Mapping[str, Any],
    *,
    source: str,
    turn: int | None = None,
    reveal: bool = False,
) -> RenderableType:
    """The facts of `doc`, a blank line, and `data` (the session, or a part of it)."""
    title = f"session after turn {turn}" if turn else "session before turn 1" if turn == 0 else ""
    tree = render_session_tree(data, title=title or "session", reveal=reveal)
    return Group(render_facts(file_facts(doc, source, turn=turn)), Text(""), tree)


def render_validation(result: Validation, source: str) -> RenderableType:
    """The verdict on one line, then one line per problem, warning and note."""
    doc = result.doc
    summary = (
        f"revision {doc.revision}, {plural(len(doc.turns), 'turn')}, "
        f"{plural(len(doc.messages), 'message')}"
    )
    verdicts = {
        "valid": ("valid", "green"),
        "warnings": (f"valid, {plural(len(result.warnings), 'warning')}", "yellow"),
        "invalid": (f"invalid, {plural(len(result.problems), 'problem')}", "bold red"),
    }
    verdict, style = verdicts[result.verdict]
    lines = [Text.assemble(literal(f"{source}: "), (verdict, style), literal(f" ({summary})"))]
    for label, style, items in (
        ("error", "bold red", result.problems),
        ("warning", "yellow", result.warnings),
        ("note", "blue", result.notes),
    ):
        lines += [Text.assemble((f"{label}: ", style), literal(item)) for item in items]
    return Group(*lines)
