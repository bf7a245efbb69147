"""The ledger of used approvals: all-or-nothing claims, expiry, and sharing across processes."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dcaf_cli.protocol.signing import CLOCK_SKEW, Proposal, Signer, Stamp
from dcaf_cli.server import ledger as ledger_module
from dcaf_cli.server.ledger import Ledger, MemoryLedger, SqliteLedger


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Clock], Any]:
    def build(clock: Clock) -> Any:
        if request.param == "memory":
            return MemoryLedger(clock)
        return SqliteLedger(tmp_path / "ledger.sqlite3", clock)

    return build


def test_a_key_is_claimed_once(make: Callable[[Clock], Any]) -> None:
    ledger = make(Clock())
    assert isinstance(ledger, Ledger)
    assert ledger.claim({"a": 2000.0}) == []
    assert ledger.claim({"a": 2000.0}) == ["a"]
    assert len(ledger) == 1  # type: ignore[arg-type]  # the test ledgers count their entries


def test_a_claim_is_all_or_nothing(make: Callable[[Clock], Any]) -> None:
    ledger = make(Clock())
    assert ledger.claim({"b": 2000.0}) == []
    assert ledger.claim({"a": 2000.0, "b": 2000.0, "c": 2000.0}) == ["b"]
    assert len(ledger) == 1  # neither a nor c was recorded
    assert ledger.claim({"a": 2000.0, "c": 2000.0}) == []


def test_expired_keys_are_pruned_now_and_then(make: Callable[[Clock], Any]) -> None:
    clock = Clock()
    ledger = make(clock)
    ledger.claim({"old": clock.now + 10, "young": clock.now + 3600})
    clock.now += 11  # "old" has expired, but the last prune is recent: nothing happens yet
    ledger.claim({"new": clock.now + 3600})
    assert len(ledger) == 3
    clock.now += ledger_module.PRUNE_INTERVAL
    assert ledger.claim({"newer": clock.now + 3600}) == []  # this claim prunes first
    assert len(ledger) == 3  # old went; young, new and newer stay
    assert ledger.claim({"young": 0.0}) == ["young"]
    clock.now += 3600 * 2
    assert ledger.prune() == 3
    assert len(ledger) == 0


def test_threads_racing_for_a_key_claim_it_once(make: Callable[[Clock], Any]) -> None:
    ledger = make(Clock())
    barrier = threading.Barrier(8)

    def claim(_: int) -> bool:
        barrier.wait()
        return not ledger.claim({"k": 2000.0})

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(claim, range(8))) == [False] * 7 + [True]


def _claim_all(path: str, keys: list[str], start: Any, out: Any) -> None:
    """One process of the race below: claim every key once, report the ones it got."""
    ledger = SqliteLedger(path)
    start.wait()
    out.put([key for key in keys if not ledger.claim({key: 9e9})])
    ledger.close()


def test_processes_sharing_a_file_claim_each_key_once(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    SqliteLedger(path).close()
    keys = [f"key-{n}" for n in range(100)]
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(3), context.Queue()
    processes = [context.Process(target=_claim_all, args=(path, keys, start, out)) for _ in "ab"]
    for process in processes:
        process.start()
    start.wait(timeout=20)
    won = [out.get(timeout=20) for _ in processes]
    for process in processes:
        process.join(timeout=20)
    assert sorted(won[0] + won[1]) == sorted(keys)  # every key once, by one process or the other
    assert all(process.exitcode == 0 for process in processes)


def test_the_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.sqlite3")
    assert ledger._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    ledger.close()


def test_a_used_proposal_is_remembered_while_it_could_verify() -> None:
    clock = Clock()
    signer = Signer(b"k" * 32, ttl=600, clock=clock)
    signature = signer.sign_proposal(Proposal("id", "tool", "approval", {}, "digest"))
    stamp = Stamp.parse(signature)
    assert stamp is not None
    assert stamp.issued == 1000
    assert signer.used_until(stamp) == 1000 + 600 + CLOCK_SKEW
    assert Stamp.parse("v1.1000.mac") is None  # before nonces
    assert Stamp.parse("v2.1000..mac") is None
