"""A real MCP server written with the SDK, for the tests: `python mcp_server.py` serves
stdio; `python mcp_server.py PORT` serves streamable HTTP on 127.0.0.1:PORT/mcp.

`add` is marked read-only; `note` and `clash` are not; `crash` kills the server; `hang`
never answers. Every process writes its pid to $MCP_PID_DIR (when set), so tests can
check none is left behind.
"""

import os
import sys
import time
from pathlib import Path
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("fake tools")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> str:
    """Add two numbers."""
    return str(a + b)


@server.tool()
def note(text: str, tone: Literal["plain", "loud"] = "plain") -> str:
    """Write a note."""
    return f"noted: {text.upper() if tone == 'loud' else text}"


@server.tool()
def clash(word: str) -> str:
    """A tool whose name an agent also uses."""
    return f"server clash: {word}"


@server.tool()
def fail(reason: str) -> str:
    """Fail with a message."""
    raise ValueError(reason)


@server.tool()
def crash() -> str:
    """Kill the server process."""
    os._exit(3)


@server.tool()
def hang() -> str:
    """Never answer."""
    while True:
        time.sleep(1)


if __name__ == "__main__":
    pid_dir = os.environ.get("MCP_PID_DIR")
    if pid_dir:
        Path(pid_dir, str(os.getpid())).write_text("")
    if len(sys.argv) > 1:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    else:
        server.run("stdio")
