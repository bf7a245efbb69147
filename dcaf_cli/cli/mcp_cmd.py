"""`dcaf mcp`: serve an agent's tools to MCP clients, on the session of a session file."""

from pathlib import Path
from typing import Annotated

import typer

from dcaf_cli.cli.run import Approve

EXAMPLES = (
    "Examples:\n\n"
    "  dcaf mcp shop --session cart.json               # stdio, for an MCP client\n\n"
    "  dcaf mcp shop --session cart.json --port 9000   # http://127.0.0.1:9000/mcp\n\n"
    "  dcaf mcp deploy --session d.json --approve yes  # and the tools that ask\n\n"
    "  dcaf session log cart.json                      # what the client did"
)


def register(app: typer.Typer) -> None:
    """Add `dcaf mcp` to `app`."""
    app.command(epilog=EXAMPLES)(mcp)


def mcp(
    agent: Annotated[
        str,
        typer.Argument(
            help="The agent: a file (agents/shop.py[:name]), a module (pkg.mod[:name]) or a "
            "built-in (notes, shop, deploy, counter).",
            show_default=False,
        ),
    ],
    session: Annotated[
        Path,
        typer.Option(
            "--session",
            "-s",
            help="Session file the tools work on, saved after every call (created if missing).",
            dir_okay=False,
        ),
    ],
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help="Serve streamable HTTP at http://127.0.0.1:PORT/mcp instead of stdio (0: a free "
            "port, shown at start).",
            show_default=False,
        ),
    ] = None,
    approve: Annotated[
        Approve,
        typer.Option(
            "--approve",
            help="yes: also run the tools that ask for approval. no: refuse them, saying why "
            "in the tool's result (tools approved 'always' in the file still run).",
        ),
    ] = Approve.no,
) -> None:
    """Serve an agent's tools over the Model Context Protocol (stdio, or streamable HTTP with
    --port), with the session of FILE injected into every call and saved after it, as a turn
    of its own (`dcaf session log`, `dcaf session undo`)."""
    import anyio

    from dcaf_cli.cli.chat import ChatSettings, open_conversation
    from dcaf_cli.mcp_server.serve import build_server, serve_http, serve_stdio

    settings = ChatSettings(agent=agent, session=session, interactive=False)
    conversation = open_conversation(settings)
    try:
        server = build_server(conversation, approve=approve == Approve.yes)
        if port is None:
            anyio.run(serve_stdio, server)
        else:
            from dcaf_cli.server.startup import check_port

            port = check_port("127.0.0.1", port)  # 0: a free one, named here
            typer.echo(f"dcaf mcp: serving {agent} at http://127.0.0.1:{port}/mcp", err=True)
            serve_http(server, port)
    finally:
        conversation.close()
