"""The MCP server over a conversation: tools listed with their schemas, calls recorded."""

from __future__ import annotations

import asyncio
from typing import Any

from dcaf_cli.conversation import Conversation
from dcaf_cli.errors import ProviderMissingError


def _sdk() -> Any:
    try:
        import mcp_types
        from mcp.server.lowlevel import Server
    except ImportError:
        raise ProviderMissingError(
            "dcaf mcp needs the mcp package", hint="pip install 'dcaf-cli[mcp]'"
        ) from None
    return Server, mcp_types


def build_server(conversation: Conversation, *, approve: bool) -> Any:
    """An MCP `Server` whose tools are the agent's; calls run one at a time."""
    server_class, types = _sdk()
    lock = asyncio.Lock()

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=[_listed(t, types) for t in conversation.agent.tools])

    async def call_tool(ctx: Any, params: Any) -> Any:
        async with lock:
            report = await conversation.call_tool(
                params.name, params.arguments or {}, approve=approve
            )
        text = report.text if report.error is None else f"Error: {report.error}"
        if report.save_error is not None:
            text += f"\n(not saved: {report.save_error})"
        failed = report.error is not None or report.save_error is not None
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=failed)

    return server_class(
        f"dcaf {conversation.agent.name}", on_list_tools=list_tools, on_call_tool=call_tool
    )


def _listed(tool: Any, types: Any) -> Any:
    hints = types.ToolAnnotations(read_only_hint=False) if tool.requires_approval else None
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.parameters,
        annotations=hints,
    )


async def serve_stdio(server: Any) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_http(server: Any, port: int, host: str = "127.0.0.1") -> None:
    """Streamable HTTP at http://HOST:PORT/mcp until interrupted."""
    import uvicorn

    app = server.streamable_http_app(host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")
