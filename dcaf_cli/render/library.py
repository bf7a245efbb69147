"""The sessions folder as a table: for `dcaf session ls`, the `--resume` picker and the
REPL's `/sessions`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dcaf_cli.render.text import literal
from dcaf_cli.session.redact import redact
from dcaf_cli.session.text import plural, shorten
from dcaf_cli.store.library import Listing, Skipped
from dcaf_cli.store.summary import Summary


def render_listing(listing: Listing, *, now: float) -> RenderableType:
    """`dcaf session ls`: name, agent, model, turns, revision, last used, size; then what
    was skipped."""
    if not listing.sessions:
        out: RenderableType = literal(f"no sessions in {listing.folder}", "dim")
    else:
        out = table = _table(("name", "agent", "model", "turns", "revision", "last used", "size"))
        for s in listing.sessions:
            table.add_row(
                _name(s), _text(s.agent), _text(s.model), str(s.turns), str(s.revision),
                ago(s.mtime, now), human_size(s.size),
            )  # fmt: skip
    skipped = render_skipped(listing.skipped)
    return Group(out, skipped) if skipped is not None else out


def render_choices(
    sessions: Sequence[Summary], *, now: float, current: Path | None = None, reveal: bool = False
) -> Table:
    """The picker and `/sessions`: number, name, agent, turns, last input, when."""
    table = _table(("#", "name", "agent", "turns", "last input", "when"))
    for i, s in enumerate(sessions, start=1):
        here = current is not None and s.path == current
        last = s.last_input or ""
        last_shown = literal(shorten(last if reveal else str(redact(last)), 40))
        name = _name(s, open_elsewhere=s.open and not here)
        mark = "▸" if here else str(i)
        table.add_row(mark, name, _text(s.agent), str(s.turns), last_shown, ago(s.mtime, now))
    return table


def render_skipped(skipped: Sequence[Skipped]) -> Text | None:
    """One line for the files that are not session files, one more per broken one."""
    if not skipped:
        return None
    foreign = [s for s in skipped if not s.broken]
    out = Text(style="dim")
    if foreign:
        names = ", ".join(s.path.name for s in foreign[:5]) + (", …" if len(foreign) > 5 else "")
        out.append(f"skipped {_files(len(foreign))} that are not session files: ")
        out.append_text(literal(names))
    for s in skipped:
        if s.broken:
            out.append("\n" if out.plain else "")
            out.append_text(literal(f"skipped {s.path.name}: {s.reason}"))
    return out


def ago(then: float, now: float) -> str:
    """How long ago, in the largest unit that fits; the date past a week."""
    seconds = max(0.0, now - then)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days < 7:
        return f"{plural(days, 'day')} ago"
    return datetime.fromtimestamp(then).strftime("%Y-%m-%d")


def human_size(size: int) -> str:
    """1000-based, as the docs measure files: `950 B`, `1.2 KB`, `3.4 MB`."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _table(columns: Sequence[str]) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("#", "when", "last used"))
    return table


def _name(s: Summary, *, open_elsewhere: bool | None = None) -> Text:
    name = literal(s.name, "bold")
    if s.open if open_elsewhere is None else open_elsewhere:
        name.append(" (open)", style="yellow")
    return name


def _text(value: str | None) -> Text:
    return literal(value) if value else Text("-", style="dim")


def _files(n: int) -> str:
    return plural(n, "file")
