"""`dcaf tools`: an agent's tools, their parameters and approval flags, or their schemas."""

from typing import Annotated

import typer

from dcaf_cli.cli.console import make_console, print_json, print_note

EXAMPLES = (
    "Examples:\n\n"
    "  dcaf tools shop\n\n"
    "  dcaf tools agents/deploy.py\n\n"
    "  dcaf tools shop --json | jq '.[].name'\n\n"
    "  dcaf tools notes --mcp 'python weather_server.py'"
)


def register(app: typer.Typer) -> None:
    """Add `dcaf tools` to `app`."""
    app.command(epilog=EXAMPLES)(tools)


def tools(
    agent: Annotated[
        str | None,
        typer.Argument(
            help="The agent: a file (agents/shop.py[:name]), a module (pkg.mod[:name]) or a "
            "built-in (notes, shop, deploy, counter). Default: notes.",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print what the model is told: each tool's name, description and the JSON "
            "schema of its parameters (and whether it asks for approval), as `dcaf serve` "
            "lists them at GET /api/tools.",
        ),
    ] = False,
    mcp: Annotated[
        list[str] | None,
        typer.Option(
            "--mcp",
            help="Add an MCP server's tools: a command (stdio) or a streamable-HTTP URL; "
            "repeatable.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List an agent's tools: what each does, its parameters (type, required or default,
    allowed values) and whether it asks for approval before it runs."""
    from dcaf_cli.runtime.agent import Agent
    from dcaf_cli.runtime.compat import agent_notes
    from dcaf_cli.runtime.loader import DEFAULT_AGENT, load_agent

    spec = agent or DEFAULT_AGENT
    loaded = load_agent(spec)
    for note in agent_notes(loaded, spec):
        print_note(note)
    if mcp:
        import copy

        from dcaf_cli.cli.chat import add_mcp_servers
        from dcaf_cli.errors import UsageError

        if not isinstance(loaded, Agent):
            raise UsageError(f"agent {spec!r} is not an Agent with tools; drop --mcp")
        loaded = copy.copy(loaded)
        add_mcp_servers(loaded, mcp)
    try:
        found = loaded.tools
    finally:
        if isinstance(loaded, Agent):
            loaded.close()
    if json_output:
        print_json([t.listing() for t in found])
        return
    from dcaf_cli.render.tools import render_tools

    make_console().print(render_tools(found, agent=spec))
