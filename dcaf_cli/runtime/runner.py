"""Run a coroutine to completion from synchronous code, with a clean Ctrl-C.

Unlike `asyncio.run`, a Ctrl-C here interrupts a blocking tool at once (Python raises
KeyboardInterrupt in the running frame) instead of waiting for the next `await`; if it
arrives while the loop waits on I/O, the task is cancelled and run until it has unwound,
so every transaction rolls back before KeyboardInterrupt reaches the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise RuntimeError(
            "called from a running event loop: use the async twin (`await agent.arun(...)`)"
        )
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(coro)
        try:
            return loop.run_until_complete(task)
        except KeyboardInterrupt:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(task)
            raise
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
