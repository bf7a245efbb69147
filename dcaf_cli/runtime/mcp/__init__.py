"""Tools of Model Context Protocol servers in an agent (the `mcp` extra).

`MCPTool(command=...)` or `MCPTool(url=...)` in `Agent(tools=[...])`, or `--mcp` on the
command line, adds a server's tools to the agent's. Each server is started on first need
(`connection`), kept for the whole run and stopped with it; its tools become ordinary
`Tool`s (`toolset`) whose calls go to the server, with their schemas, approvals and
failures handled as for any tool.
"""

from dcaf_cli.runtime.mcp.toolset import MCPTool, close_all, from_option, is_toolset

__all__ = ["MCPTool", "close_all", "from_option", "is_toolset"]
