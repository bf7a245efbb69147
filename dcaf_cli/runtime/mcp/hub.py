"""One background event loop for every MCP connection of the process.

The SDK's connections are anyio task groups bound to the loop (and the task) that opened
them, while dcaf runs each turn in a loop of its own (`runner.run_sync`), and `dcaf tools`
in none. So the connections live on this loop, in a daemon thread, and callers on any
loop or thread hand it coroutines. Its thread is also the parent of stdio servers, which
the guard in `connection` ties to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The hub's loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None:
            new = asyncio.new_event_loop()
            thread = threading.Thread(target=new.run_forever, name="dcaf-mcp", daemon=True)
            thread.start()
            _loop = new
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    return asyncio.run_coroutine_threadsafe(coro, loop())


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the hub and wait for it from synchronous code."""
    return submit(coro).result(timeout)


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on the hub and await it from another loop (cancelling it there cancels
    it on the hub)."""
    return await asyncio.wrap_future(submit(coro))
