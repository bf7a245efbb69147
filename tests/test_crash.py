"""Crash safety of the session file: `kill -9` at random moments, and one writer at a time."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from dcaf_cli.errors import ExitStatus
from dcaf_cli.store.filestore import read_session_file

DCAF = Path(sys.executable).with_name("dcaf")

# Start-up dominates the cost (about 0.5 s a process on an idle machine, three times that
# on a busy one), so fewer processes with more turns each: 12 kills, >= 204 turns.
PROCESSES = 12
LINES_PER_PROCESS = 200  # more than a process gets through before it is killed
MIN_TURNS_BEFORE_KILL, MAX_TURNS_BEFORE_KILL = 17, 23
RUN_TIMEOUT = 120  # seconds for one short `dcaf run`: a hang, not a busy machine


def start(path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(DCAF), "run", "shop", "--session", str(path), "--json", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def revisions(lines: IO[str], count: int | None = None) -> list[int]:
    """Revisions reported on stdout: `count` of them, or all that are left."""
    seen: list[int] = []
    while count is None or len(seen) < count:
        line = lines.readline()
        if not line.endswith("\n"):  # end of stream, or half a line cut by the kill
            break
        report = json.loads(line)
        assert report["error"] is None, report
        seen.append(report["revision"])
    return seen


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_an_acknowledged_revision(tmp_path: Path) -> None:
    path = tmp_path / "cart.json"
    rng = random.Random(os.environ.get("CRASH_SEED", "4"))
    acknowledged = 0  # the last revision some process reported saved
    turns = 0
    for n in range(PROCESSES):
        proc = start(path)
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write("".join(f"/add_to_cart p{n}-{i} 1\n" for i in range(LINES_PER_PROCESS)))
        proc.stdin.flush()
        before_kill = revisions(
            proc.stdout, rng.randint(MIN_TURNS_BEFORE_KILL, MAX_TURNS_BEFORE_KILL)
        )
        time.sleep(rng.uniform(0, 0.006))  # somewhere inside a later turn: any instant
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        reported = before_kill + revisions(proc.stdout)  # lines already in the pipe count
        proc.stdin.close()
        proc.stdout.close()
        if proc.stderr is not None:
            assert proc.stderr.read() == ""
            proc.stderr.close()
        assert reported == list(range(acknowledged + 1, acknowledged + 1 + len(reported)))
        turns += len(reported)
        acknowledged = reported[-1]

        doc = read_session_file(path)  # parses: never a torn document
        assert doc.revision in (acknowledged, acknowledged + 1), (n, doc.revision, acknowledged)
        # Every turn added one item: the data is exactly that revision's, not half of one.
        assert len(doc.turns) == doc.revision
        assert len(doc.session["cart"]) == doc.revision
        acknowledged = doc.revision  # the next process starts from what is on disk
    assert turns >= 200

    # A clean run after all that: the killed writers' temp files are swept, the lock is free.
    done = subprocess.run(
        [str(DCAF), "run", "shop", "-s", str(path), "-m", "/view_cart"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert read_session_file(path).revision == acknowledged + 1


def test_a_second_writer_is_refused_with_the_first_named(tmp_path: Path) -> None:
    path = tmp_path / "cart.json"
    first = start(path)
    assert first.stdin is not None
    assert first.stdout is not None
    try:
        first.stdin.write("add 1 widget\n")
        first.stdin.flush()
        assert revisions(first.stdout, 1) == [1]  # it has the file, and waits for more input
        before = path.read_bytes()

        second = subprocess.run(
            [str(DCAF), "run", "shop", "-s", str(path), "-m", "add 2 gadgets"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        assert second.returncode == ExitStatus.LOCKED
        assert second.stdout == ""
        assert second.stderr.count("\n") == 1
        assert second.stderr.startswith(f"dcaf: error: {path} is open in another dcaf (pid ")
        assert f"pid {first.pid}," in second.stderr
        assert f"dcaf run shop --session {path} --json" in second.stderr
        assert "close it or use another file" in second.stderr
        assert path.read_bytes() == before
    finally:
        first.stdin.close()
        first.wait(timeout=10)
        first.stdout.close()
        if first.stderr is not None:
            first.stderr.close()
    assert first.returncode == 0

    again = subprocess.run(
        [str(DCAF), "run", "shop", "-s", str(path), "-m", "add 2 gadgets"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert read_session_file(path).revision == 2
