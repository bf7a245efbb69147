"""Session data as a tree, the file's facts, and the log of turns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from dcaf_cli.render.text import literal, short_json
from dcaf_cli.session.redact import MASK, is_secret_key, redact
from dcaf_cli.session.text import shorten

if TYPE_CHECKING:
    from dcaf_cli.store.sessionfile import TurnRecord

MAX_CHILDREN = 50


def render_session_tree(
    data: Mapping[str, Any], *, title: str = "session", reveal: bool = False
) -> RenderableType:
    """Every key and value, nested values as branches (long lists cut at 50 items, and
    values below `MAX_LEVELS` branches shown on one line, shortened)."""
    tree = Tree(Text(title, style="bold"))
    if not data:
        tree.add(Text("(empty)", style="dim"))
    stack: list[tuple[Tree, object, Any, int]] = [
        (tree, key, value, 1) for key, value in reversed(list(data.items()))
    ]
    while stack:  # a loop, not recursion: data of any depth shows
        parent, key, value, level = stack.pop()
        if key is _NOTE:
            parent.add(value)
        else:
            stack += reversed(_add(parent, key, value, reveal, level))
    return tree


_NOTE = object()  # a task that adds its value, a Text, as it is: "… 3 more"


MAX_LEVELS = 24  # deeper than this, a branch would not fit a terminal's width anyway


def _add(
    parent: Tree, key: object, value: Any, reveal: bool, level: int
) -> list[tuple[Tree, object, Any, int]]:
    """Add `key: value` under `parent`; the children still to add under its branch."""
    label = literal(
        str(key) if isinstance(key, str) else f"[{key}]", "bold" if isinstance(key, str) else "dim"
    )
    if not reveal and is_secret_key(key) and value not in (None, "", [], {}):
        parent.add(Text.assemble(label, ": ", (MASK, "magenta")))
        return []
    if isinstance(value, dict) and value and level < MAX_LEVELS:
        branch = parent.add(Text.assemble(label, (f"  {{{len(value)}}}", "dim")))
        children: list[tuple[Tree, object, Any, int]] = [
            (branch, k, v, level + 1) for k, v in list(value.items())[:MAX_CHILDREN]
        ]
        return children + _more(branch, len(value))
    if isinstance(value, list) and value and level < MAX_LEVELS:
        branch = parent.add(Text.assemble(label, (f"  [{len(value)}]", "dim")))
        children = [(branch, i, v, level + 1) for i, v in enumerate(value[:MAX_CHILDREN])]
        return children + _more(branch, len(value))
    parent.add(
        Text.assemble(
            label, ": ", literal(short_json(value, width=120, reveal=reveal, key=key), "green")
        )
    )
    return []


def _more(branch: Tree, count: int) -> list[tuple[Tree, object, Any, int]]:
    if count <= MAX_CHILDREN:
        return []
    return [(branch, _NOTE, Text(f"… {count - MAX_CHILDREN} more", style="dim"), 0)]


def render_facts(facts: Sequence[tuple[str, str]]) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for name, value in facts:
        table.add_row(literal(name), literal(value))
    return table


def render_log(
    turns: Sequence[TurnRecord], *, width: int = 40, reveal: bool = False
) -> RenderableType:
    """A row per turn: number, time, input (secrets redacted), tools called, what changed."""
    if not turns:
        return Text("no turns yet", style="dim")
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("#", "at", "input", "tools", "changed"):
        table.add_column(column, overflow="fold", no_wrap=column in ("#", "at"))
    for turn in turns:
        tools = ", ".join(str(c.get("name", "?")) for c in turn.get("tool_calls", []))
        patch = turn.get("patch")
        ops = [op for op in patch if isinstance(op, dict)] if isinstance(patch, list) else []
        paths = sorted({_top(str(op.get("path", ""))) for op in ops})
        table.add_row(
            str(turn.get("n", "?")),
            str(turn.get("at", ""))[:19].replace("T", " "),
            literal(shorten(_shown(str(turn.get("input", "")), reveal), width)),
            literal(tools or "-"),
            literal(", ".join(paths) or "-"),
        )
    return Group(table)


def _shown(text: str, reveal: bool) -> str:
    return text if reveal else str(redact(text))


def _top(pointer: str) -> str:
    return pointer.lstrip("/").split("/", 1)[0].replace("~1", "/").replace("~0", "~")
