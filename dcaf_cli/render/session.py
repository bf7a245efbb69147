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
    """Every key and value, nested values as branches (long lists cut at 50 items)."""
    tree = Tree(Text(title, style="bold"))
    if not data:
        tree.add(Text("(empty)", style="dim"))
    for key, value in data.items():
        _add(tree, key, value, reveal)
    return tree


def _add(parent: Tree, key: object, value: Any, reveal: bool) -> None:
    label = literal(
        str(key) if isinstance(key, str) else f"[{key}]", "bold" if isinstance(key, str) else "dim"
    )
    if not reveal and is_secret_key(key) and value not in (None, "", [], {}):
        parent.add(Text.assemble(label, ": ", (MASK, "magenta")))
        return
    if isinstance(value, dict) and value:
        branch = parent.add(Text.assemble(label, (f"  {{{len(value)}}}", "dim")))
        for i, (k, v) in enumerate(value.items()):
            if i == MAX_CHILDREN:
                branch.add(Text(f"… {len(value) - MAX_CHILDREN} more", style="dim"))
                break
            _add(branch, k, v, reveal)
    elif isinstance(value, list) and value:
        branch = parent.add(Text.assemble(label, (f"  [{len(value)}]", "dim")))
        for i, v in enumerate(value[:MAX_CHILDREN]):
            _add(branch, i, v, reveal)
        if len(value) > MAX_CHILDREN:
            branch.add(Text(f"… {len(value) - MAX_CHILDREN} more", style="dim"))
    else:
        parent.add(
            Text.assemble(
                label, ": ", literal(short_json(value, width=120, reveal=reveal, key=key), "green")
            )
        )


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
        paths = sorted({_top(op.get("path", "")) for op in turn.get("patch", [])})
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
