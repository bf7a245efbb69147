"""Where a turn runs: on the server's loop while the agent's turns are quick, else on a
worker thread with an event loop of its own.

Agent code may block: a custom function or a tool calling a synchronous SDK would stall
every other request of the worker if it ran on the server's loop. But handing a turn to
a thread and back costs more than a small turn itself, and under load the threads
contend with the loop for the GIL, which shows in every request's latency. So
`TurnPlace` runs an agent's turns on the loop for as long as none of them blocks it:
each stretch of a turn between two awaits is timed, and one that held the loop for more
than `QUICK_SECONDS` while waiting in the kernel (a blocking call), or computed for more
than `BUSY_SECONDS` (not counting garbage collection, which a thread would not have spared
the loop), sends the agent's later turns to threads. Computing has the longer bound: a
thread computing holds the GIL as the loop would, and only gives the loop a turn every
few milliseconds, which a long computation is worth and a short one (a turn over a large
session) is not. It tries the loop again after `PROBE_GAP` turns, then 4x
as many, and gives up after `PROBES` tries: an agent that blocks stalls the loop at most
that many times in a worker's life, each time for one turn.

The threads are one pool for the process, shared by every app in it (tests build many),
and made as they are needed, up to `MAX_THREADS` at once, like anyio's default limit.
Each thread makes its loop once, on its first turn, and runs every later turn on it
(creating and closing a loop per turn, as `runtime.runner.run_sync` does for the CLI,
costs more than a small turn). A turn whose caller is cancelled keeps running in its
thread to its end (so its session transaction ends cleanly); its caller stops waiting.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import threading
import time
from collections.abc import Callable, Coroutine, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Turn = Callable[[], Coroutine[Any, Any, T]]
MAX_THREADS = 40
QUICK_SECONDS = 0.005
BUSY_SECONDS = 0.05
PROBE_GAP = 64
PROBES = 3

_THREAD = getattr(resource, "RUSAGE_THREAD", 1)
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_here = threading.local()


class TurnPlace:
    """Where one agent's turns run: see above. The first turn runs on a thread (it pays
    for what is loaded or built on first use), the second tries the loop."""

    def __init__(self) -> None:
        self.inline = False
        self.tries = 0  # of the loop
        self.wait = 1  # turns to run on threads before trying the loop (again)
        self._trying = False

    async def run(self, make: Turn[T]) -> T:
        if not self.inline and (self._trying or self.tries >= PROBES or self.wait > 0):
            self.wait -= 1
            return await in_thread(make)
        trial = not self.inline
        if trial:
            self.tries += 1
            self._trying = True
        timed = Timed(make())
        try:
            return await timed
        finally:
            if trial:
                self._trying = False
            self._judge(timed.blocked, trial)

    def _judge(self, blocked: bool, trial: bool) -> None:
        if blocked and (self.inline or trial):  # one verdict for turns that ran together
            self.inline = False
            self.wait = PROBE_GAP * 4 ** (self.tries - 1)
        elif trial:
            self.inline = True


class Timed(Generic[T]):
    """Awaits a coroutine, noting whether a stretch of it between two awaits blocked the
    loop: took over `QUICK_SECONDS`, computing or waiting in the kernel (a descheduled
    thread, or a loaded machine, is not the turn's fault)."""

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.blocked = False

    def __await__(self) -> Generator[Any, Any, T]:
        coro, sent, error = self.coro, None, None
        while True:
            before = _clocks()
            try:
                yielded = coro.send(sent) if error is None else coro.throw(error)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            finally:
                self.blocked = self.blocked or _blocked(before, _clocks())
            try:
                sent, error = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation goes to the turn
                sent, error = None, exc


Clocks = tuple[float, float, int, float]


def _blocked(before: Clocks, after: Clocks) -> bool:
    if after[0] - before[0] <= QUICK_SECONDS:
        return False
    computing = after[1] - before[1] - (after[3] - before[3])
    return computing > BUSY_SECONDS or after[2] != before[2]


def _clocks() -> Clocks:
    """Wall time, this thread's CPU time, how often it waited in the kernel (one system
    call: `time.thread_time` alone costs ten times as much on some machines), and the
    time spent collecting garbage so far."""
    used = resource.getrusage(_THREAD)
    return time.perf_counter(), used.ru_utime + used.ru_stime, used.ru_nvcsw, _gc.seconds


if not hasattr(resource, "RUSAGE_THREAD"):  # pragma: no cover - not Linux

    def _clocks() -> Clocks:  # every slow stretch counts as blocking
        return time.perf_counter(), time.thread_time(), time.perf_counter_ns(), _gc.seconds


class _GarbageTime:
    """The time the process has spent collecting garbage (a `gc` callback)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start


_gc = _GarbageTime()
gc.callbacks.append(_gc)


async def in_thread(make: Turn[T]) -> T:
    """Run the coroutine `make()` returns on a worker thread's loop, and await its result."""
    return await asyncio.get_running_loop().run_in_executor(_threads(), _run_here, make)


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="dcaf-turn")
    return _pool


def _run_here(make: Turn[T]) -> T:
    loop: asyncio.AbstractEventLoop | None = getattr(_here, "loop", None)
    if loop is None or loop.is_closed():
        loop = _here.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop.run_until_complete(make())
