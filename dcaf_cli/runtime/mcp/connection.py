"""One MCP server: started on first need, kept while it works, stopped with the run.

A connection is owned by one task on the hub's loop (the SDK's transports must be entered
and left by the same task); calls from other tasks share its client session. A call that
times out or breaks the transport stops the server, so the next call starts a fresh one;
a server's own tool error is just that call's error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dcaf_cli.errors import MCPError, ProviderMissingError
from dcaf_cli.session.text import exception_line

if TYPE_CHECKING:
    from mcp import ClientSession

# Runs before the server's own program, in the server's process: ask Linux to kill it
# when dcaf's MCP thread dies (also on `kill -9` of dcaf), then become the server. The
# parent check closes the race of a dcaf that died before the request took effect.
GUARD = (
    "import ctypes,os,signal,sys\n"
    "ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))\n"
    "os.getppid() == int(sys.argv[1]) or os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


@dataclass(slots=True)
class ServerSpec:
    """Where a server is and how to talk to it."""

    command: str | None = None
    url: str | None = None
    env: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    start_timeout: float = 30.0  # to start and list the tools
    timeout: float = 60.0  # for each call

    @property
    def label(self) -> str:
        """The server as users wrote it, for messages."""
        return self.url or self.command or "?"


@dataclass(slots=True)
class _Live:
    session: ClientSession
    stop: asyncio.Event
    done: asyncio.Task[None]
    name: str = ""  # the server's own name
    tools: list[Any] = field(default_factory=list)


def _require_sdk() -> None:
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise ProviderMissingError(
            "MCP servers need the mcp package", hint="pip install 'dcaf-cli[mcp]'"
        ) from None


def stdio_command(command: str) -> tuple[str, list[str]]:
    """The program and arguments that start `command` (split as a shell would, not run by
    one), guarded on Linux so the server dies with dcaf."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise MCPError(f"MCP server command {command!r}: {exc}") from None
    if not argv:
        raise MCPError("an MCP server command is empty")
    if sys.platform.startswith("linux"):
        return sys.executable, ["-I", "-c", GUARD, str(os.getpid()), *argv]
    return argv[0], argv[1:]


_running: set[Connection] = set()  # every started server of the process, until stopped


async def close_running() -> None:
    """Stop every server this process started."""
    for connection in list(_running):
        await connection.close()


class Connection:
    """A server's client session, opened on the hub's loop by `open` (only call these
    methods there)."""

    def __init__(self, spec: ServerSpec) -> None:
        _require_sdk()
        self.spec = spec
        self._live: _Live | None = None
        self._opening: asyncio.Lock | None = None

    async def tools(self) -> tuple[str, list[Any]]:
        """The server's name and tools (the SDK's `Tool` objects), starting it if needed."""
        live = await self._ensure()
        return live.name, live.tools

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call a tool; the SDK's `CallToolResult`. Transport failures and timeouts stop
        the server (the next call starts it again) and raise MCPError."""
        live = await self._ensure()
        try:
            async with asyncio.timeout(self.spec.timeout):
                return await live.session.call_tool(name, arguments)
        except TimeoutError:
            await self.close()
            raise MCPError(
                f"MCP server {self.spec.label} did not answer {name} within "
                f"{self.spec.timeout:g} s; it was stopped"
            ) from None
        except Exception as exc:
            await self.close()
            raise MCPError(
                f"MCP server {self.spec.label} failed during {name}: {exception_line(exc)}"
            ) from None

    async def close(self) -> None:
        _running.discard(self)
        live, self._live = self._live, None
        if live is None:
            return
        live.stop.set()
        with contextlib.suppress(BaseException):
            await live.done

    # -- opening ---------------------------------------------------------------------

    async def _ensure(self) -> _Live:
        if self._live is not None and not self._live.done.done():
            return self._live
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._live is None or self._live.done.done():
                self._live = await self._open()
                _running.add(self)
        return self._live

    async def _open(self) -> _Live:
        ready: asyncio.Future[_Live] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._own(ready, stop))
        try:
            async with asyncio.timeout(self.spec.start_timeout):
                return await asyncio.shield(ready)
        except TimeoutError:
            stop.set()
            task.cancel()
            raise MCPError(
                f"MCP server {self.spec.label} did not start within {self.spec.start_timeout:g} s"
            ) from None

    async def _own(self, ready: asyncio.Future[_Live], stop: asyncio.Event) -> None:
        """The task that holds the transport from start to stop."""
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                # stdio servers' stderr goes nowhere: it must not garble the terminal
                errlog = stack.enter_context(open(os.devnull, "w"))  # noqa: SIM115
                transport = await self._transport(stack, errlog)
                read, write = await stack.enter_async_context(transport)
                session = await stack.enter_async_context(ClientSession(read, write))
                hello = await session.initialize()
                listed = await session.list_tools()
                current = asyncio.current_task()
                assert current is not None
                name = hello.server_info.name
                ready.set_result(_Live(session, stop, current, name, list(listed.tools)))
                await stop.wait()
        except BaseException as exc:  # the SDK's task groups raise groups of anything
            if not ready.done():
                ready.set_exception(
                    MCPError(f"MCP server {self.spec.label} failed to start: {_first(exc)}")
                )
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def _transport(
        self, stack: contextlib.AsyncExitStack, errlog: Any
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        if self.spec.url is not None:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            # a client given to the transport is ours to close
            client = await stack.enter_async_context(
                create_mcp_http_client(headers=self.spec.headers)
            )
            return streamable_http_client(self.spec.url, http_client=client)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        program, args = stdio_command(self.spec.command or "")
        params = StdioServerParameters(command=program, args=args, env=self.spec.env)
        return stdio_client(params, errlog=errlog)


def _first(exc: BaseException) -> str:
    """The first real failure inside an exception group, on one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exception_line(exc)
