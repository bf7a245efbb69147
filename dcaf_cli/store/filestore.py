"""Session files on disk: reading, and `SessionStore`, the one writer of one file.

The store holds an exclusive `flock` on a sidecar lock file for as long as it is open,
refuses to overwrite a file that changed behind its back, and saves atomically and
durably: temp file in the same folder, fsync, rename over the old file, fsync the folder,
so a `kill -9` at any instant leaves the old document or the new one.

The format itself (parse, dump, `SessionFile`) lives in `sessionfile.py`; its public
names are re-exported here, so `from dcaf_cli.store.filestore import ...` is the one import.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any, NamedTuple

from dcaf_cli import settings
from dcaf_cli.errors import SessionFileError, SessionLockedError, SessionSaveError
from dcaf_cli.session.text import one_line
from dcaf_cli.store.sessionfile import (
    FORMAT_VERSION,
    SessionFile,
    bad,
    check_size,
    dump_session_document,
    encode_document,
    new_session_file,
    parse_session_document,
    utc_timestamp,
)
from dcaf_cli.store.writerlock import WriterLock

__all__ = [
    "FORMAT_VERSION",
    "SessionFile",
    "SessionStore",
    "dump_session_document",
    "new_session_file",
    "parse_session_document",
    "read_session_file",
]


# -- reading files ---------------------------------------------------------------------


class _Seen(NamedTuple):
    """What the file was when we last read or wrote it: to notice other writers."""

    inode: int
    size: int
    mtime_ns: int
    digest: bytes

    def matches(self, st: os.stat_result) -> bool:
        return (st.st_ino, st.st_size, st.st_mtime_ns) == (self.inode, self.size, self.mtime_ns)


def read_session_file(path: str | os.PathLike[str]) -> SessionFile:
    """Read a session file without locking it (for inspection); a missing file is an error."""
    source = os.fspath(path)
    loaded = _load(Path(path), source)
    if loaded is None:
        raise SessionFileError(one_line(f"{source} does not exist; check the path"))
    return loaded[0]


def _load(path: Path, source: str) -> tuple[SessionFile, _Seen] | None:
    """The parsed file and its fingerprint, or None if there is no file."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # also keeps us from blocking on a FIFO
            raise bad(source, "is not a regular file", "give the path of a .json file")
        check_size(st.st_size, source)
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        msg = f"cannot read {source}: {exc.strerror or exc}; check its permissions"
        raise SessionFileError(one_line(msg)) from None
    seen = _Seen(st.st_ino, st.st_size, st.st_mtime_ns, _digest(data).digest())
    return parse_session_document(data, source=source), seen


def _digest(data: bytes = b"") -> hashlib._Hash:
    """The fingerprint of our own writes, to tell `touch` from an edit (never stored).

    SHA-1, not SHA-256: about twice as fast (every save of a 10 MB session hashes it)
    and ample for telling two versions of one file apart; nothing here is adversarial.
    """
    return hashlib.sha1(data, usedforsecurity=False)


def _digest_of(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, _digest).digest()
    except OSError:
        return None


# -- the writer ------------------------------------------------------------------------


class SessionStore:
    """The one writer of one session file: `open()`, `save()` after each turn, `close()`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._source = os.fspath(path)
        self._lock: WriterLock | None = None
        self._is_open = False
        self._seen: _Seen | None = None

    def open(self) -> SessionFile:
        """Take the writer lock, then read. A missing file is a new, unsaved session."""
        if self._is_open:
            return self.reload()
        target = self._target()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create the folder for {self._source}: {exc.strerror or exc}"
            raise SessionFileError(one_line(msg)) from None
        self._lock = WriterLock.acquire(target, self._source)
        self._is_open = True
        try:
            if self._lock.fd is not None:
                _remove_stale_temps(target)
            elif not target.exists():
                # No lock file can be made there, so no save could either: say so now,
                # before a turn runs and its work is lost.
                msg = (
                    f"cannot create {self._source}: dcaf cannot write in the folder "
                    f"{target.parent} (read-only); nothing was changed — pick another folder"
                )
                raise SessionFileError(one_line(msg))
            return self.reload()
        except BaseException:
            self.close()
            raise

    def reload(self) -> SessionFile:
        """Read the file again (after an external change was reported)."""
        self._require_open()
        loaded = _load(self._target(), self._source)
        if loaded is None:
            self._seen = None
            return new_session_file()
        doc, self._seen = loaded
        return doc

    def _check_readable_size(self, size: int) -> None:
        """Never write a file dcaf would then refuse to open (`DCAF_MAX_FILE_MB`)."""
        limit_mb = _too_big_to_read(size)
        if limit_mb is not None:
            msg = (
                f"cannot save {self._source}: it would be {size / 1_000_000:.1f} MB, over the "
                f"{limit_mb:g} MB dcaf reads; the file was not changed — undo or /clear turns, "
                f"or set {settings.MAX_FILE_MB} higher"
            )
            raise SessionSaveError(one_line(msg))

    def save(self, doc: SessionFile) -> int:
        """Write `doc` as the next revision; returns that revision.

        On failure nothing on disk changes and `doc` is left as it was, so the caller may
        try again.
        """
        self._require_open()
        target = self._target()
        if not os.access(target, os.W_OK) and target.exists():
            msg = f"cannot save {self._source}: the file is read-only; the file was not changed"
            raise SessionSaveError(one_line(msg + " — make it writable, or save to another file"))
        meta = _next_meta(doc.meta)
        body = encode_document(doc, meta, f"cannot save {self._source}:")
        self._check_readable_size(len(body) + 1)
        tmp, seen = _write_temp(target, body, self._source)
        try:
            # Checked as late as possible, so an editor's save cannot slip in between.
            self._check_unchanged(target)
            _replace(tmp, target, self._source)
        finally:
            _discard(tmp)
        self._seen = seen
        doc.meta.clear()  # in place: callers may hold the meta dict
        doc.meta.update(meta)
        doc.notice = None
        _fsync_folder(target.parent, self._source)
        return doc.revision

    def close(self) -> None:
        """Release the writer lock; calling it again does nothing."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._is_open = False

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _target(self) -> Path:
        # Write through a symlink to the real file instead of replacing the link itself.
        return Path(os.path.realpath(self.path))

    def _require_open(self) -> None:
        if not self._is_open:
            raise RuntimeError("SessionStore: call open() before reading or saving")

    def _check_unchanged(self, target: Path) -> None:
        try:
            st = os.stat(target)
        except FileNotFoundError:
            return  # deleted behind our back: there is nothing to overwrite
        seen = self._seen
        if seen is not None and seen.matches(st):
            return
        # Same bytes with a new timestamp (`touch`, an editor saving unchanged text) is fine.
        if seen is not None and st.st_size == seen.size and _digest_of(target) == seen.digest:
            self._seen = seen._replace(inode=st.st_ino, mtime_ns=st.st_mtime_ns)
            return
        raise SessionLockedError(
            one_line(
                f"{self._source} changed on disk since dcaf read it (another program wrote"
                " it); nothing was overwritten — reload it, or save to another file"
            )
        )


def _next_meta(meta: dict[str, Any]) -> dict[str, Any]:
    now = utc_timestamp()
    out = {"revision": int(meta.get("revision", 0)) + 1, "created": meta.get("created") or now}
    out["updated"] = now
    out.update((k, v) for k, v in meta.items() if k not in out)
    return out


def _write_temp(target: Path, body: bytes, source: str) -> tuple[Path, _Seen]:
    """Write `body` and a newline durably to a new temp file beside `target`."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(TEMP_HEX_BYTES)}.tmp")
    fd = -1
    try:
        old = _stat_or_none(target)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        _match_old_file(fd, old)
        _write_all(fd, body)
        _write_all(fd, b"\n")
        os.fsync(fd)
        st = os.fstat(fd)
    except OSError as exc:
        _discard(tmp)
        raise _save_error(source, exc) from None
    finally:
        if fd >= 0:
            os.close(fd)
    digest = _digest(body)
    digest.update(b"\n")
    return tmp, _Seen(st.st_ino, st.st_size, st.st_mtime_ns, digest.digest())


def _replace(tmp: Path, target: Path, source: str) -> None:
    try:
        os.replace(tmp, target)
    except OSError as exc:
        raise _save_error(source, exc) from None


def _discard(tmp: Path) -> None:
    """Remove a temp file if it is there. Cleanup never hides the error being reported: on
    a read-only file system even removing a file that does not exist fails (EROFS)."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def _save_error(source: str, exc: OSError) -> SessionSaveError:
    return SessionSaveError(
        one_line(
            f"cannot save {source}: {exc.strerror or exc}; the file was not changed —"
            " free some space or fix the folder's permissions, then save again"
        )
    )


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _match_old_file(fd: int, old: os.stat_result | None) -> None:
    """New files are private (0600); a replaced file keeps its mode and, if we can, owner."""
    if old is None:
        os.fchmod(fd, 0o600)  # the umask may have narrowed O_CREAT's mode; be exact
        return
    os.fchmod(fd, stat.S_IMODE(old.st_mode))
    if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        # Only root may give files away; otherwise the file simply becomes ours.
        with contextlib.suppress(PermissionError):
            os.fchown(fd, old.st_uid, old.st_gid)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_folder(folder: Path, source: str) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # file systems that cannot
            msg = f"saved {source}, but its folder could not be flushed to disk: {exc.strerror}"
            raise SessionFileError(one_line(msg)) from None


TEMP_HEX_BYTES = 4
TEMP_SUFFIX = rf"[0-9a-f]{{{TEMP_HEX_BYTES * 2}}}\.tmp"


def _too_big_to_read(size: int) -> float | None:
    """The limit in MB when a file of `size` bytes would be over what dcaf reads."""
    limit_mb = settings.max_file_mb()
    return limit_mb if size > limit_mb * 1_000_000 else None


def _remove_stale_temps(target: Path) -> None:
    """Temp files of writers killed mid-save (only the lock holder may remove them).

    Only what `_write_temp` makes: `.NAME.` and 8 hex digits and `.tmp`, a regular file
    (not a link) of this user's. A `.NAME.backup.tmp` someone keeps there stays."""
    ours = re.compile(re.escape(f".{target.name}.") + TEMP_SUFFIX)
    uid = os.getuid() if hasattr(os, "getuid") else None
    with os.scandir(target.parent) as entries:
        for entry in entries:
            if not ours.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            if uid is None or entry.stat(follow_symlinks=False).st_uid == uid:
                Path(entry.path).unlink(missing_ok=True)
