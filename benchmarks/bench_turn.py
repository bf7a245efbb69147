"""The per-turn overhead of `dcaf run`: a turn, its record and the atomic save, on 1 KB,
1 MB and 10 MB session files, next to serialising the same file once (DESIGN.md §10).

`Conversation.send` is the real path of every REPL and scripted turn: the turn loop
(offline model, one trivial tool changing one key), the diff, the turn record, and
`SessionStore.save` (encode, temp file, fsync, rename, fsync the folder). Its baseline,
measured in the same run, is encoding the same document once with the fastest JSON
encoder available (`pydantic_core.to_json`, or orjson when installed), indented as the
file is, then writing and fsync-ing it to a file in the same folder. A second row per
size runs the same conversation with a store that encodes and writes nothing: the CPU
part. On a 1 KB file the rest is the disk's: two fsyncs and a rename, against the
baseline's one fsync, so a slow disk alone can put the 5 ms target out of reach.

`Agent.run` alone (no file) shows that the turn itself, its diff included, costs the same
whatever the session's size: its 1 MB and 10 MB figures are compared with its 1 KB one.

Memory: a child process loads a 10 MB session file, runs a turn and saves it; the growth
of its peak resident set (VmHWM; `ru_maxrss` as a fallback) must stay under 5x the
file's size. A second child reports the peak of Python allocations (tracemalloc).

Session data is an order history of small varied records (numbers, short strings), an
expensive shape in memory per byte of JSON, and a counter the tool bumps.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic_core

from benchmarks import Row, time_statements
from dcaf_cli import Agent, Session, tool
from dcaf_cli.conversation import Conversation
from dcaf_cli.runtime.results import Decision, PendingToolCall
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.store.sessionfile import SessionFile, encode_document, new_session_file

SIZES = {"1 KB": 1_000, "1 MB": 1_000_000, "10 MB": 10_000_000}
HISTORY_TURNS = 5  # a conversation already under way, kept at this length while timing
TEXT = "bump the counter"
MEMORY_FACTOR = 5


@tool(description="Bump the counter")
def bump(session: Session) -> str:
    session.set("counter", session.get("counter", 0) + 1)
    return "bumped"


def _order(i: int) -> dict[str, Any]:
    return {
        "order": i,
        "item": f"item-{i % 997}",
        "quantity": i % 7 + 1,
        "price": round(1 + (i % 1000) * 0.37, 2),
        "note": f"left at locker {i * 7919 % 100_000}",
    }


def session_data(size: int) -> dict[str, Any]:
    """A session whose file is about `size` bytes: a counter and an order history."""
    data: dict[str, Any] = {"counter": 0, "user": {"name": "Ada", "tier": "gold"}}
    sample = [_order(i) for i in range(100)]
    # Bytes per order as the file writes it (indented, three levels deep).
    per = (len(pydantic_core.to_json({"s": {"o": sample}}, indent=2)) - 20) / len(sample)
    data["orders"] = [_order(i) for i in range(max(int((size - 700) / per), 1))]
    return data


async def _never_asked(pending: list[PendingToolCall]) -> list[Decision]:
    raise RuntimeError("the benchmark's turn should not pause")


def _agent() -> Agent:
    return Agent(tools=[bump], model="offline", name="bench")


class _Chat:
    """A conversation under way (HISTORY_TURNS turns), whose every timed turn sees the
    same document: the history is trimmed back after each one."""

    def __init__(self, doc: SessionFile, store: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.conversation = Conversation(_agent(), doc, store)
        self.loop = loop
        for _ in range(HISTORY_TURNS):
            self.send()
        self.messages = len(doc.messages)
        self.turns = len(doc.turns)

    def send(self) -> None:
        report = self.loop.run_until_complete(self.conversation.send(TEXT, _never_asked))
        if not report.ok or report.revision is None:
            raise RuntimeError(f"the turn failed: {report.error or report.save_error}")

    def timed_send(self) -> None:
        self.send()
        doc = self.conversation.doc
        del doc.messages[self.messages :]
        del doc.turns[self.turns :]


class _EncodeOnlyStore:
    """A store that encodes the document exactly as a save does, and writes nothing: the
    turn's CPU cost, apart from the disk's."""

    path = Path("(memory)")

    def save(self, doc: SessionFile) -> int:
        meta = {**doc.meta, "revision": doc.revision + 1}
        encode_document(doc, meta, "the benchmark")
        doc.meta.update(meta)
        return doc.revision

    def close(self) -> None:
        pass


class _Rig:
    """One size: a conversation over a real session file, the same conversation with the
    encode-only store, and the baseline's file."""

    def __init__(self, folder: Path, size: int) -> None:
        self.loop = asyncio.new_event_loop()
        store = SessionStore(folder / "session.json")
        doc = store.open()
        doc.session = session_data(size)
        store.save(doc)
        self.real = _Chat(doc, store, self.loop)
        memory = new_session_file()
        memory.session = session_data(size)
        self.encode_only = _Chat(memory, _EncodeOnlyStore(), self.loop)
        self.file_size = store.path.stat().st_size
        self.baseline_path = folder / "baseline.json"

    def envelope(self) -> dict[str, Any]:
        doc = self.real.conversation.doc
        return {
            "dcaf_session": 1,
            "session": doc.session,
            "messages": doc.messages,
            "turns": doc.turns,
            "meta": doc.meta,
        }

    def close(self) -> None:
        self.real.conversation.close()
        self.loop.close()


def _encoders() -> dict[str, Callable[[Any], bytes]]:
    encoders: dict[str, Callable[[Any], bytes]] = {
        "pydantic_core.to_json": lambda value: pydantic_core.to_json(value, indent=2),
    }
    try:
        import orjson
    except ImportError:
        pass
    else:
        encoders["orjson"] = lambda value: orjson.dumps(value, option=orjson.OPT_INDENT_2)
    return encoders


def write_and_fsync(path: Path, body: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _rig(size: int) -> Iterator[_Rig]:
    with tempfile.TemporaryDirectory(prefix="dcaf-bench-", dir=os.environ.get("BENCH_DIR")) as d:
        rig = _Rig(Path(d), size)
        try:
            yield rig
        finally:
            rig.close()


def _time_size(label: str, size: int) -> list[Row]:
    with _rig(size) as rig:
        namespace: dict[str, Any] = {"rig": rig, "write": write_and_fsync}
        statements = {"send": "rig.real.timed_send()", "cpu": "rig.encode_only.timed_send()"}
        encoders = _encoders()
        for name, encode in encoders.items():
            namespace[name] = encode
            statements[name] = f"write(rig.baseline_path, globals()[{name!r}](rig.envelope()))"
        repeat = 7 if size <= 1000 else 5
        t = time_statements(statements, namespace, repeat=repeat, min_time=0.02)
        file_size = rig.file_size
    fastest = min(encoders, key=lambda name: t[name])
    base, base_name = t[fastest], f"{fastest} + fsync"
    shown = f"{file_size / 1e6:.1f} MB" if file_size > 100_000 else f"{file_size / 1e3:.1f} kB"
    note = f"{shown} file; baselines: " + ", ".join(f"{n} {t[n] * 1e3:.2f} ms" for n in encoders)
    name = f"Conversation.send, {label} session"
    cpu = f"{name}, no disk"
    if label == "1 KB":
        return [
            Row(name, t["send"], "s", base, base_name, limit=0.005, note=note),
            Row(cpu, t["cpu"], "s", limit=0.005,
                note="turn + record + encode, nothing written: the rest is write, fsync, "
                "rename, fsync the folder"),
        ]  # fmt: skip
    return [
        Row(name, t["send"], "s", base, base_name,
            max_ratio=1.5 if label == "10 MB" else None, note=note),
        Row(cpu, t["cpu"], "s", base, base_name),
    ]  # fmt: skip


def bench_send() -> list[Row]:
    rows: list[Row] = []
    for label, size in SIZES.items():
        rows += _time_size(label, size)
    return rows


def bench_run() -> list[Row]:
    """The turn without the file: it must not grow with the session's size."""
    agent = _agent()
    messages = [{"role": "user", "content": TEXT}]
    namespace: dict[str, Any] = {"agent": agent, "messages": messages}
    statements = {}
    for label, size in SIZES.items():
        namespace[f"s{size}"] = Session(session_data(size))
        statements[label] = f"agent.run(messages, session=s{size})"
    t = time_statements(statements, namespace, repeat=7, min_time=0.05)
    small = t["1 KB"]
    return [
        Row("Agent.run, 1 KB session", small, "s", note="offline model, one-key tool, no file"),
        Row("Agent.run, 1 MB session", t["1 MB"], "s", small, "1 KB session", max_ratio=1.5),
        Row("Agent.run, 10 MB session", t["10 MB"], "s", small, "1 KB session", max_ratio=1.5,
            note="the diff visits only the key the turn touched"),
    ]  # fmt: skip


_CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, sys, tracemalloc
    from pathlib import Path
    from benchmarks.bench_turn import TEXT, _agent, _never_asked
    from dcaf_cli.conversation import Conversation
    from dcaf_cli.store.filestore import SessionStore

    def peak_rss():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec(), so a child started
        # by a big parent would report the parent's peak.
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    path, trace = Path(sys.argv[1]), sys.argv[2] == "trace"
    if trace:
        tracemalloc.start()
    before = peak_rss()
    store = SessionStore(path)
    conversation = Conversation(_agent(), store.open(), store)
    report = asyncio.run(conversation.send(TEXT, _never_asked))
    assert report.ok and report.revision is not None, report
    after = peak_rss()
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    conversation.close()
    print(json.dumps({"before": before, "after": after, "traced_peak": peak}))
    """
)


def _child(path: Path, mode: str) -> dict[str, int]:
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    result: dict[str, int] = json.loads(out.stdout)
    return result


def bench_memory() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="dcaf-bench-", dir=os.environ.get("BENCH_DIR")) as d:
        path = Path(d) / "session.json"
        with SessionStore(path) as store:
            store.open()
            doc = new_session_file(agent="bench", model="offline")
            doc.session = session_data(SIZES["10 MB"])
            store.save(doc)
        size = path.stat().st_size
        rss = _child(path, "rss")
        traced = _child(path, "trace")
    grown = rss["after"] - rss["before"]
    return [
        Row("peak RSS growth, 10 MB file: load + turn + save", grown, "B", size,
            "the file's size", max_ratio=MEMORY_FACTOR,
            note=f"peak RSS (VmHWM) {rss['before'] / 2**20:.0f} MiB after imports, "
            f"{rss['after'] / 2**20:.0f} MiB after the turn"),
        Row("tracemalloc peak, 10 MB file: load + turn + save", traced["traced_peak"], "B",
            size, "the file's size", note="Python allocations only"),
    ]  # fmt: skip
