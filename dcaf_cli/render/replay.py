"""What `dcaf replay` shows: a line per turn (✓ or ✗), the divergence of a turn that
differs (recorded and actual session change side by side, as `dcaf session diff` shows
them), and the summary."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from dcaf_cli.render.diff import render_changes
from dcaf_cli.render.text import literal
from dcaf_cli.session.diff import diff_sessions
from dcaf_cli.session.jsonvalue import same
from dcaf_cli.session.text import shorten
from dcaf_cli.testing.replayer import ReplayReport, TurnReplay

_MARKS = {
    "match": ("✓", "green"),
    "given": ("·", "dim"),
    "diverged": ("✗", "red"),
    "failed": ("✗", "red"),
}


def render_turn(turn: TurnReplay, *, reveal: bool = False, width: int = 80) -> RenderableType:
    """One line for the turn; under a divergence, what differs."""
    mark, style = _MARKS[turn.verdict]
    line = Text.assemble(
        (f"{mark} ", style),
        (f"turn {turn.n}", "bold"),
        "  ",
        literal(shorten(turn.input, max(10, width - 30))),
    )
    if turn.verdict == "given":
        line.append("  (made by hand: applied as recorded)", style="dim")
    elif turn.verdict == "match":
        line.append(f"  {turn.duration_ms:.0f} ms", style="dim")
    if turn.ok:
        return line
    parts: list[RenderableType] = [line]
    parts += [Text.assemble(("    ", ""), literal(problem, "red")) for problem in turn.problems]
    if turn.verdict == "diverged" and not same(turn.expected, turn.actual):
        parts.append(_side_by_side(turn, reveal=reveal, width=width))
    return Group(*parts)


def _side_by_side(turn: TurnReplay, *, reveal: bool, width: int) -> RenderableType:
    column = max(20, (width - 10) // 2)
    table = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, show_edge=False)
    table.add_column("recorded", header_style="bold", overflow="fold")
    table.add_column("now", header_style="bold", overflow="fold")
    table.add_row(
        render_changes(diff_sessions(turn.before, turn.expected), reveal=reveal, width=column),
        render_changes(diff_sessions(turn.before, turn.actual), reveal=reveal, width=column),
    )
    return Padding(table, (0, 0, 0, 4))


def render_summary(report: ReplayReport) -> RenderableType:
    style = "green" if report.ok else "red"
    text = Text(report.summary(), style=f"bold {style}")
    if report.skipped:
        text.append(f"; {report.skipped} not replayed", style="dim")
    return text
