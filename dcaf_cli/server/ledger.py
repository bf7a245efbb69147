"""The ledger of used approvals: each proposal can be decided once.

A stateless server cannot tell a byte-identical retry of an approving request (same
proposal, same pre-execution session) from the first one: the signature verifies both
times. So `approvals` records the MAC of every proposal a decision uses, approved or
rejected, and refuses it afterwards. A key is kept for as long as its proposal could
verify (`Signer.used_until`: the approval TTL, an hour by default), then pruned.

`claim` is the only operation, and it is atomic: it records every key of a request or,
if one is already there, none of them. The server claims *before* the tool runs, so of
two identical requests racing only one runs it, and an approval whose run then fails
stays used: approvals are single-use, and the user asks again.

Three implementations:

- `MemoryLedger`: a dict and a lock, for one process (the default of `create_app`).
- `SqliteLedger(path)`: a SQLite file (WAL mode) shared by every process that opens it,
  which is how the workers of `dcaf serve --workers N` share one ledger on a host. An
  `INSERT ... ON CONFLICT DO NOTHING` inside `BEGIN IMMEDIATE` is the check-and-record,
  so two workers cannot both claim a key. SQLite's locking needs one host's filesystem
  (not NFS or SMB).
- `RedisLedger(url)` (`redis_ledger`): one Redis shared by every replica on every host.

Any object with a `claim` method works (`create_app(ledger=...)`); `ping()` (raise when
the store does not answer) and `describe()` are optional, for `/ready` and `/health`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

PRUNE_INTERVAL = 60.0  # seconds between prunes of expired keys, per process
BUSY_TIMEOUT = 10.0  # seconds a worker waits for another one's write to finish

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS used_approvals "
    "(key TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS used_approvals_expires ON used_approvals (expires)",
)
_INSERT = "INSERT INTO used_approvals (key, expires) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"


@runtime_checkable
class Ledger(Protocol):
    def claim(self, entries: Mapping[str, float]) -> list[str]:
        """Record each key (with the time after which it may be forgotten), all or none.

        Returns the keys already recorded: when it is not empty nothing was recorded.
        """
        ...


def ledger_state(ledger: Ledger) -> tuple[str, str | None]:
    """What the ledger is, and why it does not answer (None when it does)."""
    describe = getattr(ledger, "describe", None)
    name = describe() if callable(describe) else type(ledger).__name__
    ping = getattr(ledger, "ping", None)
    if not callable(ping):
        return name, None
    try:
        ping()
    except Exception as exc:
        return name, " ".join(str(exc).split()) or type(exc).__name__
    return name, None


class MemoryLedger:
    """The ledger of one process: enough for tests and a single worker."""

    def describe(self) -> str:
        return "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()
        self._pruned = clock()

    def claim(self, entries: Mapping[str, float]) -> list[str]:
        with self._lock:
            self._prune_now_and_then()
            used = [key for key in entries if key in self._used]
            if not used:
                self._used.update(entries)
            return used

    def prune(self) -> int:
        """Forget expired keys; how many went."""
        with self._lock:
            return self._prune()

    def __len__(self) -> int:
        return len(self._used)

    def _prune_now_and_then(self) -> None:
        if self.clock() - self._pruned >= PRUNE_INTERVAL:
            self._prune()

    def _prune(self) -> int:
        now = self._pruned = self.clock()
        expired = [key for key, expires in self._used.items() if expires < now]
        for key in expired:
            del self._used[key]
        return len(expired)


class SqliteLedger:
    """The ledger of every process that opens the same SQLite file (one host)."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()  # one connection, used from anyio's worker threads
        self._db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across crashes in WAL
            for statement in _SCHEMA:
                self._db.execute(statement)
        except sqlite3.Error:
            self._db.close()
            raise
        self._pruned = clock()

    def describe(self) -> str:
        return f"sqlite {self.path}"

    def ping(self) -> None:
        with self._lock:
            self._db.execute("SELECT 1")

    def claim(self, entries: Mapping[str, float]) -> list[str]:
        with self._lock:
            if self.clock() - self._pruned >= PRUNE_INTERVAL:
                self._delete_expired()  # a transaction of its own
            self._db.execute("BEGIN IMMEDIATE")  # the write lock, now: one claim at a time
            try:
                used = [
                    key
                    for key, expires in entries.items()
                    if self._db.execute(_INSERT, (key, expires)).rowcount == 0
                ]
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("ROLLBACK" if used else "COMMIT")
            return used

    def prune(self) -> int:
        """Forget expired keys; how many went."""
        with self._lock:
            return self._delete_expired()

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM used_approvals").fetchone()
            return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _delete_expired(self) -> int:
        now = self._pruned = self.clock()
        return self._db.execute("DELETE FROM used_approvals WHERE expires < ?", (now,)).rowcount
