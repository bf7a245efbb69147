"""The session diff of a turn: added, removed and changed values, by JSON path."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dcaf_cli.render.text import literal, short_json
from dcaf_cli.session.diff import Change

_MARKS = {"added": ("+", "green"), "removed": ("-", "red"), "changed": ("~", "yellow")}


def render_changes(
    changes: Sequence[Change], *, reveal: bool = False, width: int = 60
) -> RenderableType:
    """A table of what changed; "no change" when nothing did."""
    if not changes:
        return Text("session: no change", style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for change in changes:
        mark, style = _MARKS[change.kind]
        key = change.path[-1] if change.path else None
        if change.kind == "added":
            value = literal(short_json(change.new, width=width, reveal=reveal, key=key), "green")
        elif change.kind == "removed":
            value = literal(
                short_json(change.old, width=width, reveal=reveal, key=key), "red strike"
            )
        else:
            value = Text.assemble(
                literal(short_json(change.old, width=width // 2, reveal=reveal, key=key), "red"),
                (" → ", "dim"),
                literal(short_json(change.new, width=width // 2, reveal=reveal, key=key), "green"),
            )
        table.add_row(Text(mark, style=style), literal(change.where or "(session)"), value)
    return Group(Text("session:", style="bold"), table)
