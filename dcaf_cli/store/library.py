"""The sessions folder: where `dcaf run` saves a conversation when no file is named, and
what `-c`, `--resume` and `dcaf session ls/rm/prune` look through.

A session's name is its file name without `.json`. Listing reads only each file's two
ends (see `summary.py`); files that are not session files are skipped, never an error.
Removing takes the file's writer lock first, so a session open in another dcaf is never
touched.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dcaf_cli.errors import SessionFileError, SessionLockedError, UsageError
from dcaf_cli.session.text import one_line
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.store.sessionfile import SessionFile
from dcaf_cli.store.summary import NotASession, Summary, summarize
from dcaf_cli.store.writerlock import WriterLock, is_held

SUFFIX = ".json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file in the folder that is not a readable session file, and why."""

    path: Path
    reason: str
    broken: bool  # a dcaf session file that cannot be read (not a foreign file)


@dataclass
class Listing:
    folder: Path
    sessions: list[Summary] = field(default_factory=list)  # most recently used first
    skipped: list[Skipped] = field(default_factory=list)


class SessionLibrary:
    """The session files of one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def scan(self) -> Listing:
        """Every session file in the folder, most recently used first. A missing folder is
        an empty one; hidden files (locks, temp files) are not looked at."""
        listing = Listing(self.folder)
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except FileNotFoundError:
            return listing
        except OSError as exc:
            msg = (
                f"cannot list {self.folder}: {exc.strerror or exc}; check the folder's permissions"
            )
            raise SessionFileError(one_line(msg)) from None
        for entry in entries:
            if entry.name.startswith(".") or entry.is_dir():
                continue
            path = Path(entry.path)
            try:
                summary = summarize(path)
            except NotASession as exc:
                listing.skipped.append(Skipped(path, str(exc), exc.broken))
                continue
            listing.sessions.append(dataclasses.replace(summary, open=is_held(path)))
        listing.sessions.sort(key=lambda s: (-s.mtime, s.name))
        return listing

    def find(self, name: str) -> Path:
        """The file a session NAME names: a path (with a `/`), a name in the folder (with or
        without `.json`), or the start of exactly one name."""
        if os.sep in name or name.startswith("~"):
            path = Path(name).expanduser()
            if not path.is_file():
                raise UsageError(f"{name} does not exist; check the path")
            return path
        for candidate in (self.folder / name, self.folder / f"{name}{SUFFIX}"):
            if name and not name.startswith(".") and candidate.is_file():
                return candidate
        matches = [s.path for s in self.scan().sessions if s.name.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = ", ".join(p.stem for p in matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise UsageError(f"{name!r} names more than one session ({names}); give more of it")
        raise UsageError(
            one_line(f"no session named {name!r} in {self.folder}"),
            hint="`dcaf session ls` lists them",
        )

    def latest(self, agent: str | None = None) -> Summary:
        """The most recently used session (of `agent`, as recorded, when given)."""
        for summary in self.scan().sessions:
            if agent is None or summary.agent == agent:
                return summary
        of = f" of agent {agent!r}" if agent else ""
        raise UsageError(
            one_line(f"there is no saved session{of} in {self.folder} to continue"),
            hint="start one with `dcaf run AGENT`",
        )

    def create(
        self, agent_name: str, now: datetime | None = None
    ) -> tuple[SessionStore, SessionFile]:
        """A new session file named from the agent and the time, opened (locked) but not
        yet written: it appears with the first turn."""
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        base = _UNSAFE.sub("-", agent_name).strip("-.") or "session"
        _make_private_folder(self.folder)
        for n in range(1, 1000):
            path = self.folder / f"{base}-{stamp}{'' if n == 1 else f'-{n}'}{SUFFIX}"
            if path.exists() or path.with_name(f".{path.name}.lock").exists():
                continue
            store = SessionStore(path)
            try:
                doc = store.open()
            except SessionLockedError:
                continue  # another dcaf started this second and took the name first
            if not path.exists():
                return store, doc
            store.close()
        raise SessionFileError(f"cannot find a free name for a new session in {self.folder}")

    def remove(self, path: Path) -> None:
        """Delete a session file, unless another dcaf has it open (`SessionLockedError`) or
        it is not a dcaf session file (`UsageError`): nothing else is ever deleted."""
        lock = WriterLock.acquire(path, path.name)
        try:
            _check_is_session(path)
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise SessionFileError(one_line(f"cannot remove {path}: {exc.strerror}")) from None
        finally:
            lock.release()

    def older_than(
        self, seconds: float, now: float | None = None
    ) -> tuple[list[Summary], list[Summary]]:
        """Sessions last used more than `seconds` ago: those free to remove, and those open
        in another dcaf (which are left alone)."""
        cutoff = (time.time() if now is None else now) - seconds
        old = [s for s in self.scan().sessions if s.mtime < cutoff]
        return [s for s in old if not s.open], [s for s in old if s.open]


def _check_is_session(path: Path) -> None:
    try:
        summarize(path)
    except NotASession as exc:
        if not exc.broken:  # a broken session file is still ours to remove
            raise UsageError(one_line(f"{path.name}: {exc}; it was not removed")) from None


def parse_age(text: str) -> float:
    """`30d`, `12h`, `2w`, `90m`, `45s` as seconds."""
    match = _AGE.match(text)
    if match is None:
        raise UsageError(
            f"{text!r} is not an age", hint="write a number and a unit: 30d, 12h, 2w, 90m or 45s"
        )
    return float(match[1]) * _AGE_UNITS[match[2]]


def _make_private_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the sessions folder {folder}: {exc.strerror or exc}"
        raise SessionFileError(
            one_line(msg), hint="set DCAF_SESSIONS_DIR to another folder"
        ) from None
