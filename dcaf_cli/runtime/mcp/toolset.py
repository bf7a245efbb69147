"""`MCPTool`: an MCP server's tools as agent tools, with DCAF's arguments.

Each of the server's tools becomes a `Tool` with the server's name, description and input
schema (so arguments are validated before the call) that forwards the call. It asks for
approval unless the server marks it read-only or a pattern of `auto_approve_tools`
matches it. A name an agent already has gets the server's prefix (`weather_search`),
and its description says whose tool it is.
"""

from __future__ import annotations

import atexit
import fnmatch
import re
from collections.abc import Iterable
from typing import Any, Literal

from dcaf_cli.errors import MCPError, ToolDefinitionError
from dcaf_cli.runtime.mcp import hub
from dcaf_cli.runtime.mcp.connection import Connection, ServerSpec, close_running
from dcaf_cli.tools.tool import Tool

Transport = Literal["stdio", "sse", "streamable-http"]


class MCPTool:
    """The tools of one MCP server, for `Agent(tools=[...])`."""

    def __init__(
        self,
        command: str | None = None,
        *,
        url: str | None = None,
        env: dict[str, str] | None = None,
        transport: Transport | None = None,
        timeout_seconds: float = 30,
        call_timeout_seconds: float = 60,
        include_tools: list[str] | None = None,
        exclude_tools: list[str] | None = None,
        tool_name_prefix: str | None = None,
        auto_approve_tools: list[str] | None = None,
        headers: dict[str, str] | None = None,
        **other: Any,
    ) -> None:
        transport = transport or ("stdio" if url is None else "streamable-http")
        if transport == "stdio" and not command:
            raise ValueError("MCPTool(transport='stdio') needs command='program args'")
        if transport != "stdio" and not url:
            raise ValueError(f"MCPTool(transport={transport!r}) needs url='http://host/mcp'")
        if transport == "sse":
            raise ValueError("MCPTool: the sse transport is not supported; use streamable-http")
        if headers and transport == "stdio":
            raise ValueError("MCPTool: headers= go with url=, not with a stdio command")
        self.spec = ServerSpec(
            command if transport == "stdio" else None,
            url if transport != "stdio" else None,
            env,
            headers,
            float(timeout_seconds),
            float(call_timeout_seconds),
        )
        self.include, self.exclude = include_tools, exclude_tools or []
        self.prefix = tool_name_prefix
        self.auto_approve = auto_approve_tools or []
        self.notes = [f"MCPTool({name}=...)" for name in sorted(other)]
        self._connection: Connection | None = None
        self._server_name = ""

    def __repr__(self) -> str:
        return f"MCPTool({self.spec.label!r})"

    @property
    def label(self) -> str:
        return self.spec.label

    def tools(self, taken: Iterable[str] = ()) -> list[Tool[..., Any]]:
        """The server's tools (starting it on first use); `taken` are names in use."""
        if self._connection is None:
            self._connection = Connection(self.spec)
        self._server_name, listed = hub.run(self._connection.tools())
        used = set(taken)
        made = []
        for remote in listed:
            if not self._wanted(remote.name):
                continue
            made.append(self._tool(remote, used))
            used.add(made[-1].name)
        return made

    def close(self) -> None:
        """Stop the server (it starts again if a tool is called)."""
        connection = self._connection
        if connection is not None:
            hub.run(connection.close())

    def _wanted(self, name: str) -> bool:
        if self.include is not None and name not in self.include:
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in self.exclude)

    def _tool(self, remote: Any, used: set[str]) -> Tool[..., Any]:
        name = f"{self.prefix}_{remote.name}" if self.prefix else remote.name
        description = remote.description or remote.name
        if name in used:
            name = f"{self._server_prefix()}_{name}"
            description += f" (tool {remote.name!r} of MCP server {self._server_name!r})"
        read_only = bool(remote.annotations and remote.annotations.read_only_hint)
        asks = not read_only and not any(
            fnmatch.fnmatchcase(remote.name, p) for p in self.auto_approve
        )
        connection = self._connection
        assert connection is not None
        remote_name = remote.name

        async def call(**arguments: Any) -> str:
            result = await hub.run_async(connection.call(remote_name, arguments))
            return _result_text(result, remote_name, self.label)

        spec = {"name": name, "description": description, "input_schema": remote.input_schema}
        try:
            made: Tool[..., Any] = Tool(call, name=name, schema=spec, requires_approval=asks)
        except ToolDefinitionError as exc:
            raise MCPError(f"MCP server {self.label}: tool {remote.name!r}: {exc}") from None
        made.mcp_server = self.label  # type: ignore[attr-defined]
        return made

    def _server_prefix(self) -> str:
        words = re.findall(r"[A-Za-z0-9]+", self._server_name)
        return "_".join(words).lower() or "mcp"


def _result_text(result: Any, tool: str, server: str) -> str:
    """The text of a tool result; a result the server marks as an error raises."""
    parts = []
    for block in getattr(result, "content", None) or []:
        text = getattr(block, "text", None)
        parts.append(text if isinstance(text, str) else f"[{getattr(block, 'type', 'content')}]")
    text = "\n".join(parts)
    if not parts and getattr(result, "structured_content", None) is not None:
        import json

        text = json.dumps(result.structured_content, ensure_ascii=False)
    if getattr(result, "is_error", False):
        raise MCPError(f"{tool} (MCP server {server}): {text or 'failed'}")
    return text


def from_option(value: str) -> MCPTool:
    """The server of a `--mcp` option: a URL (streamable HTTP) or a command (stdio)."""
    if value.startswith(("http://", "https://")):
        return MCPTool(url=value)
    return MCPTool(command=value)


def is_toolset(obj: object) -> bool:
    return isinstance(obj, MCPTool)


def close_all() -> None:
    """Stop every server this process started (end of a run, and at exit)."""
    hub.run(close_running())


atexit.register(close_all)
