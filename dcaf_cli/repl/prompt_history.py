"""The REPL's prompt history: a file under `DCAF_HOME`, or none when it cannot be written.

An unwritable home (a read-only container, a full disk, `HOME=/nonexistent`) must not stop
the REPL: the history is a comfort, not data. The first failure, when the folder is made
or a line is appended, is said once, and the REPL goes on with the lines of this run only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit.history import History, InMemoryHistory

from dcaf_cli.repl.history import PrivateHistory

Warn = Callable[[str], None]


class _TolerantFileHistory(PrivateHistory):
    """A `PrivateHistory` that stops writing (and says so once) when writing fails."""

    def __init__(self, path: Path, warn: Warn) -> None:
        super().__init__(path)  # makes the folder and the file: OSError when it cannot
        self._path, self._warn, self._broken = path, warn, False

    def load_history_strings(self) -> Iterable[str]:
        try:
            yield from list(super().load_history_strings())
        except OSError as exc:
            self._fail(exc)

    def store_string(self, string: str) -> None:
        if self._broken:
            return
        try:
            super().store_string(string)
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        if not self._broken:
            self._broken = True
            self._warn(_off(self._path, exc))


def prompt_history(path: Path, warn: Warn) -> History:
    """The history kept in `path`, or one in memory (after `warn`) if its folder fails."""
    try:
        return _TolerantFileHistory(path, warn)
    except OSError as exc:
        warn(_off(path, exc))
        return InMemoryHistory()


def _off(path: Path, exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return (
        f"prompt history is off for this run: cannot write {path} ({reason}); "
        "set DCAF_HOME to a writable folder to keep it"
    )
