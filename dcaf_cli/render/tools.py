"""An agent's tools for `dcaf tools`: what each does, its parameters, whether it asks first."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dcaf_cli.render.text import literal, short_json
from dcaf_cli.session.text import plural

if TYPE_CHECKING:
    from dcaf_cli.tools.signature import Param
    from dcaf_cli.tools.tool import Tool


def render_tools(tools: Sequence[Tool[..., Any]], *, agent: str) -> RenderableType:
    """A block per tool: name (and approval), description, then a table of parameters."""
    if not tools:
        return literal(f"{agent} has no tools of its own (a custom agent function)", "dim")
    blocks: list[RenderableType] = [
        Text.assemble(literal(agent, "bold"), f": {plural(len(tools), 'tool')}")
    ]
    for tool in tools:
        blocks += [Text(""), _heading(tool), literal(f"  {tool.description}"), _params(tool)]
    return Group(*blocks)


def _heading(tool: Tool[..., Any]) -> Text:
    heading = literal(tool.name, "bold cyan")
    if tool.requires_approval:
        heading.append("  asks for approval", style="yellow")
    server = getattr(tool, "mcp_server", None)
    if server:
        heading.append(f"  from MCP server {server}", style="dim")
    return heading


def _params(tool: Tool[..., Any]) -> RenderableType:
    if not tool.params:
        return Text("  no parameters", style="dim")
    table = Table(show_edge=False, header_style="dim", pad_edge=False, box=None, padding=(0, 2))
    for column in ("  parameter", "type", "", "description"):
        table.add_column(column, overflow="fold")
    for param in tool.params:
        table.add_row(
            literal(f"  {param.name}", "bold"),
            literal(param.json_type or "any"),
            literal(_requirement(param)),
            literal(_about(param)),
        )
    return table


def _requirement(param: Param) -> str:
    return "required" if param.required else f"default {_shown(param.default)}"


def _about(param: Param) -> str:
    choices = ", ".join(_shown(c) for c in param.choices)
    parts = [param.description, f"one of: {choices}" if choices else ""]
    return "; ".join(p for p in parts if p) or "-"


def _shown(value: Any) -> str:
    """JSON where it is JSON (a default may be an enum member or a model: its repr then)."""
    value = getattr(value, "value", value) if isinstance(value, Enum) else value
    try:
        return short_json(value, width=30)
    except (TypeError, ValueError):
        return repr(value)
