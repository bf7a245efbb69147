"""Where a turn runs: worker threads that each keep one event loop for all their turns.

A turn runs off the server's loop (see `service` for why). Creating and closing an event
loop per turn (what `runtime.runner.run_sync` does for the CLI) opens and closes a
selector and a socket pair, which costs more than a small turn; here each thread makes
its loop once, on its first turn, and runs every later turn on it. The threads are one
pool for the process, shared by every app in it (tests build many), and made as they are
needed, up to `MAX_THREADS` at once, like anyio's default limit.

A turn whose caller is cancelled keeps running in its thread to its end (so its session
transaction ends cleanly); its caller stops waiting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
MAX_THREADS = 40

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_here = threading.local()


async def run_turn(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine `make()` returns on a worker thread's loop, and await its result."""
    return await asyncio.get_running_loop().run_in_executor(_threads(), _run_here, make)


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="dcaf-turn")
    return _pool


def _run_here(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop: asyncio.AbstractEventLoop | None = getattr(_here, "loop", None)
    if loop is None or loop.is_closed():
        loop = _here.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop.run_until_complete(make())
