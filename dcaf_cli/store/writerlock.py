"""The writer lock of a session file: one `dcaf` process writes a file at a time.

An exclusive `flock` on `.NAME.lock` beside the session file, holding the holder's pid,
host and command line, so a second writer is told who has the file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dcaf_cli.errors import SessionFileError, SessionLockedError
from dcaf_cli.session.redact import redact_argv, redact_message
from dcaf_cli.session.text import one_line


@dataclass
class WriterLock:
    """An exclusive `flock` on `.NAME.lock` beside the session file.

    The data file cannot carry the lock: each save renames a new file over it. The kernel
    drops a flock when its process dies, so a `kill -9` leaves no stale lock.
    """

    path: Path
    fd: int | None  # None: a folder nobody can write to needs no writer lock

    @classmethod
    def acquire(cls, target: Path, source: str) -> WriterLock:
        path = target.with_name(f".{target.name}.lock")
        while True:
            fd = _open_lock_file(path, source)
            if fd is None:
                return cls(path, None)
            try:
                _flock_soon(fd)
            except OSError as exc:
                holder = _holder(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise SessionFileError(
                        one_line(f"cannot lock {source}: {exc.strerror}")
                    ) from None
                msg = f"{source} is open in another dcaf ({holder}); close it or use another file"
                raise SessionLockedError(one_line(msg)) from None
            # A holder removes the lock file as it closes; if ours was removed before we
            # got it, we hold a lock on a name nobody else will ever open. Start over.
            if _same_file(fd, path):
                _write_holder(fd)
                return cls(path, fd)
            os.close(fd)

    def release(self) -> None:
        if self.fd is not None:
            # While still holding it: see acquire. A lock file in a folder we cannot
            # write (another user's) stays; it is only a name to flock.
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None


def is_held(target: Path) -> bool:
    """Whether a writer has `target` open now. Creates nothing; the shared lock it takes to
    find out lasts microseconds, and `acquire` waits that long rather than refuse."""
    try:
        fd = os.open(target.with_name(f".{target.name}.lock"), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False  # no lock file: nobody has it open
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)  # drops the shared lock
    return False


def _flock_soon(fd: int) -> None:
    """An exclusive flock, retried for a moment: a listing may be looking (`is_held`)."""
    for delay in (0.005, 0.02, 0.05):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        time.sleep(delay)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _open_lock_file(path: Path, source: str) -> int | None:
    """A descriptor to flock, or None where no writer can exist (a read-only folder)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise SessionFileError(one_line(f"cannot lock {source}: {exc.strerror}")) from None
    try:
        # Another user's lock file (0600) still takes a flock through a read-only open.
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # nobody can create it, so nobody can save here: saving will say why


def _same_file(fd: int, path: Path) -> bool:
    try:
        st, now = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino)


def _write_holder(fd: int) -> None:
    """Who we are, for the message a second writer gets (best effort)."""
    argv = [os.path.basename(sys.argv[0]) if sys.argv else "python", *sys.argv[1:]]
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join(redact_argv(argv)),
    }
    with contextlib.suppress(OSError):  # a read-only descriptor: the lock is what counts
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)


def _holder(fd: int) -> str:
    """Who holds the lock, as `pid 1234, `dcaf run ...``, from what they wrote in it."""
    for _ in range(3):  # the holder may be between truncating and writing
        try:
            info = json.loads(os.pread(fd, 4096, 0))
            if isinstance(info, dict):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    else:
        return "pid unknown"
    pid = info.get("pid", "unknown")
    host = info.get("host")
    command = redact_message(str(info.get("command", "")))[:120]  # as older dcafs wrote it
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return f"pid {pid}{where}, `{command}`" if command else f"pid {pid}{where}"
