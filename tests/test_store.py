"""Session files on disk: the writer lock, atomic durable saves, conflicts, crash safety."""

from __future__ import annotations

import errno
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from dcaf_cli.errors import SessionFileError, SessionLockedError
from dcaf_cli.store.filestore import (
    SessionFile,
    SessionStore,
    dump_session_document,
    parse_session_document,
    read_session_file,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sessions" / "shop.json"


@pytest.fixture
def store(path: Path) -> Iterator[SessionStore]:
    with SessionStore(path) as s:
        yield s


def saved(store: SessionStore, session: dict[str, Any]) -> SessionFile:
    doc = store.open()
    doc.session = session
    store.save(doc)
    return doc


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- opening and saving ----------------------------------------------------------------


def test_missing_file_is_a_new_session_created_on_first_save(
    store: SessionStore, path: Path
) -> None:
    doc = store.open()
    assert doc.session == {}
    assert doc.revision == 0
    assert not path.exists()
    doc.session["cart"] = []
    assert store.save(doc) == 1
    assert read_session_file(path).session == {"cart": []}


def test_save_bumps_revision_and_stamps_times(store: SessionStore, path: Path) -> None:
    doc = store.open()
    doc.meta.update(agent="dcaf_cli.examples.shop", model="offline")
    meta = doc.meta
    assert store.save(doc) == 1
    created = doc.meta["created"]
    assert doc.meta is meta  # updated in place
    assert list(doc.meta) == ["revision", "created", "updated", "agent", "model"]
    assert created.endswith("Z")
    assert doc.meta["updated"] >= created
    assert store.save(doc) == 2
    assert doc.meta["created"] == created
    assert path.read_bytes() == dump_session_document(doc)


def test_reopening_reads_what_was_saved(path: Path) -> None:
    with SessionStore(path) as store:
        doc = saved(store, {"cart": [{"item": "Widget", "quantity": 2}]})
        doc.messages.append({"role": "user", "content": "hi"})
        store.save(doc)
    with SessionStore(path) as store:
        again = store.open()
    assert again.session == doc.session
    assert again.messages == doc.messages
    assert again.revision == 2


def test_bare_object_is_rewritten_in_full_format(store: SessionStore, path: Path) -> None:
    path.parent.mkdir()
    path.write_text('{"step": 2}')
    doc = store.open()
    assert doc.notice
    assert doc.session == {"step": 2}
    store.save(doc)
    assert doc.notice is None
    assert read_session_file(path).session == {"step": 2}
    assert path.read_text().startswith('{\n  "dcaf_session": 1,')


def test_new_files_are_private(store: SessionStore, path: Path) -> None:
    old_umask = os.umask(0)
    try:
        saved(store, {"a": 1})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_file_keeps_its_mode(store: SessionStore, path: Path) -> None:
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o640)
    saved(store, {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_saving_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with SessionStore(link) as store:
        saved(store, {"a": 1})
    assert link.is_symlink()
    assert read_session_file(real).session == {"a": 1}


def test_save_needs_open(path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        SessionStore(path).save(SessionFile({}, [], [], {}))


# -- reading without a store -----------------------------------------------------------


def test_read_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SessionFileError, match=r"nope\.json does not exist"):
        read_session_file(tmp_path / "nope.json")


def test_read_of_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SessionFileError, match="not a regular file"):
        read_session_file(tmp_path)


def test_default_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(101_000_000)  # sparse: costs nothing, and is never read
    with pytest.raises(
        SessionFileError, match=r"101\.0 MB, over the 100 MB limit.*DCAF_MAX_FILE_MB"
    ):
        read_session_file(big)


def test_failed_load_changes_nothing_and_releases_the_lock(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(b'{"dcaf_session": 1, "session": {')
    before = listing(path.parent)
    store = SessionStore(path)
    with pytest.raises(SessionFileError, match="line 1 column"):
        store.open()
    assert path.read_bytes() == b'{"dcaf_session": 1, "session": {'
    assert listing(path.parent) == before
    with pytest.raises(SessionFileError):  # not SessionLockedError: nobody holds it
        SessionStore(path).open()


# -- failed saves ----------------------------------------------------------------------


def fail_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if fd > 2:
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_a_full_disk_leaves_the_old_file_and_no_temp(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = saved(store, {"cart": ["widget"]})
    before, files = path.read_bytes(), listing(path.parent)
    doc.session["cart"].append("gadget")
    with monkeypatch.context() as m:
        fail_writes(m, errno.ENOSPC)
        with pytest.raises(SessionFileError) as info:
            store.save(doc)
    message = str(info.value)
    assert message.startswith(f"cannot save {path}: No space left on device;")
    assert "the file was not changed" in message
    assert "\n" not in message
    assert path.read_bytes() == before
    assert listing(path.parent) == files
    assert doc.revision == 1
    assert store.save(doc) == 2  # once there is space again, the turn is saved
    assert read_session_file(path).session == {"cart": ["widget", "gadget"]}


def test_an_unwritable_folder_is_a_clean_error(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = saved(store, {"a": 1})
    before, files = path.read_bytes(), listing(path.parent)
    real_open = os.open

    def open_(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(file).endswith(".tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    with pytest.raises(SessionFileError, match="Read-only file system; the file was not"):
        store.save(doc)
    assert path.read_bytes() == before
    assert listing(path.parent) == files


def test_a_failed_rename_leaves_no_temp(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = saved(store, {"a": 1})
    files = listing(path.parent)

    def replace(*args: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(SessionFileError, match="Input/output error"):
        store.save(doc)
    assert listing(path.parent) == files


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_real_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "s.json").write_text('{"a": 1}')
    folder.chmod(0o555)
    try:
        with SessionStore(folder / "s.json") as store:
            doc = store.open()  # no lock can be taken, and none is needed: nobody can save
            with pytest.raises(SessionFileError, match="Permission denied"):
                store.save(doc)
        assert (folder / "s.json").read_text() == '{"a": 1}'
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_file_is_not_replaced(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"a": 1})
    path.chmod(0o444)
    with pytest.raises(SessionFileError, match="read-only"):
        store.save(doc)


# -- one writer ------------------------------------------------------------------------


def test_a_second_store_is_refused_and_named(store: SessionStore, path: Path) -> None:
    store.open()
    lock = path.parent / ".shop.json.lock"
    assert lock.exists()
    with pytest.raises(SessionLockedError) as info:
        SessionStore(path).open()
    message = str(info.value)
    assert message.startswith(f"{path} is open in another dcaf (pid {os.getpid()}, `")
    assert message.endswith("); close it or use another file")
    store.close()
    store.close()  # idempotent
    assert not lock.exists()
    with SessionStore(path) as other:
        other.open()


def test_the_lock_outlives_saves(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"a": 1})
    for _ in range(3):
        store.save(doc)  # each save renames a new file over the old one
        with pytest.raises(SessionLockedError):
            SessionStore(path).open()


HOLDER = """
import sys
from dcaf_cli.store.filestore import SessionStore
SessionStore(sys.argv[1]).open()
print("locked", flush=True)
sys.stdin.read()
"""


def test_another_process_holds_the_lock_until_it_is_killed(path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(SessionLockedError, match=rf"\(pid {holder.pid}, `-c "):
            SessionStore(path).open()
        holder.kill()  # SIGKILL: no cleanup runs, and the kernel drops the flock anyway
        holder.wait()
        with SessionStore(path) as store:
            store.save(store.open())
        assert read_session_file(path).revision == 1
    finally:
        holder.kill()
        holder.wait()
        for stream in (holder.stdin, holder.stdout):
            if stream:
                stream.close()


# -- changes behind our back -----------------------------------------------------------


def test_an_editors_change_is_never_overwritten(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"a": 1})
    edited = path.read_bytes().replace(b'"a": 1', b'"a": 42')
    path.write_bytes(edited)  # in place, as some editors do
    doc.session["b"] = 2
    with pytest.raises(SessionLockedError) as info:
        store.save(doc)
    assert "changed on disk" in str(info.value)
    assert "nothing was overwritten" in str(info.value)
    assert path.read_bytes() == edited
    assert not [n for n in listing(path.parent) if n.endswith(".tmp")]
    fresh = store.reload()
    assert fresh.session == {"a": 42}
    fresh.session["b"] = 2
    assert store.save(fresh) == 2


def test_a_replaced_file_is_detected(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"a": 1})
    other = path.with_name("other.json")
    other.write_bytes(path.read_bytes())  # same bytes, new inode: harmless
    os.replace(other, path)
    store.save(doc)
    other.write_text('{"dcaf_session": 1, "session": {"a": 3}}')
    os.replace(other, path)  # what vim and most editors do: write aside, rename over
    with pytest.raises(SessionLockedError):
        store.save(doc)


def test_a_file_created_after_open_is_not_overwritten(store: SessionStore, path: Path) -> None:
    doc = store.open()
    path.write_text('{"someone": "else"}')
    with pytest.raises(SessionLockedError):
        store.save(doc)
    assert path.read_text() == '{"someone": "else"}'


def test_touching_the_file_is_not_a_change(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"a": 1})
    later = time.time_ns() + 5_000_000_000
    os.utime(path, ns=(later, later))
    assert store.save(doc) == 2
    os.utime(path, ns=(later + 1, later + 1))
    assert store.save(doc) == 3


def test_a_deleted_file_is_written_again(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"a": 1})
    path.unlink()
    assert store.save(doc) == 2
    assert read_session_file(path).session == {"a": 1}


def test_open_removes_temp_files_of_killed_writers(path: Path) -> None:
    path.parent.mkdir()
    stale = path.parent / ".shop.json.0123abcd.tmp"
    stale.write_text("{half a docu")
    unrelated = path.parent / ".other.json.0123abcd.tmp"
    unrelated.write_text("not ours")
    with SessionStore(path) as store:
        store.open()
    assert not stale.exists()
    assert unrelated.exists()


# -- crash safety ----------------------------------------------------------------------

# One parent process imports dcaf once and forks a writer per round, so each of the many
# rounds costs milliseconds instead of an interpreter start.
WRITER = """
import os, sys
from dcaf_cli.store.filestore import SessionStore

payload = {"items": [{"n": i, "text": "x" * 40} for i in range(2000)]}  # as PAYLOAD
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        store = SessionStore(sys.argv[1])
        doc = store.open()
        doc.session.update(payload)
        while True:
            revision = store.save(doc)
            os.write(1, b"ack %d\\n" % revision)
    os.write(1, b"pid %d\\n" % pid)
    os.waitpid(pid, 0)
    os.write(1, b"reaped\\n")
"""


PAYLOAD = {"items": [{"n": i, "text": "x" * 40} for i in range(2000)]}


def seconds_per_save(folder: Path) -> float:
    """How long a save takes on this disk, so the kills can spread over several saves."""
    with SessionStore(folder / "probe.json") as store:
        doc = store.open()
        doc.session.update(PAYLOAD)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            store.save(doc)
            times.append(time.perf_counter() - start)
    return sorted(times)[1]


def read_until(stream: IO[str], prefix: str, acks: list[int]) -> str:
    while True:
        line = stream.readline()
        assert line, "the writer process died"
        if line.startswith("ack "):
            acks.append(int(line.split()[1]))
        elif line.startswith(prefix):
            return line


def read_acks(stream: IO[str], count: int, acks: list[int]) -> None:
    while len(acks) < count:
        line = stream.readline()
        assert line.startswith("ack "), f"the writer stopped saving: {line!r}"
        acks.append(int(line.split()[1]))


# Where a kill lands: before the first save is acknowledged, after one, after two or more.
PHASES = (0, 1, 2)


@pytest.mark.slow
def test_kill_9_at_random_moments_never_leaves_a_broken_file(tmp_path: Path, path: Path) -> None:
    """Each round waits for its phase's number of acknowledged saves, then kills the writer
    at a random instant of the saves that follow: the phase is chosen, the instant is not."""
    rng = random.Random(1234)
    window = 2 * seconds_per_save(tmp_path) + 0.01  # + the forked writer's open()
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert writer.stdin is not None
    assert writer.stdout is not None
    revision = 0
    try:
        for round_ in range(60):
            phase = PHASES[round_ % len(PHASES)]
            acks: list[int] = []
            writer.stdin.write("go\n")
            writer.stdin.flush()
            pid = int(read_until(writer.stdout, "pid ", acks).split()[1])
            read_acks(writer.stdout, phase, acks)
            time.sleep(rng.uniform(0, window))
            os.kill(pid, signal.SIGKILL)
            read_until(writer.stdout, "reaped", acks)
            assert acks == list(range(revision + 1, revision + 1 + len(acks)))
            known = max(acks, default=revision)
            # Parses, or the test fails here. No file yet: the first save never finished.
            revision = read_session_file(path).revision if path.exists() else 0
            assert revision in (known, known + 1), (round_, phase, acks)
    finally:
        writer.kill()
        writer.wait()
        writer.stdin.close()
        writer.stdout.close()
    with SessionStore(path) as store:
        store.open()
    assert listing(path.parent) == ["shop.json"]  # stale temps and the lock file are gone


def test_parse_of_saved_bytes_matches_memory(store: SessionStore, path: Path) -> None:
    doc = saved(store, {"nested": {"list": [1, 2.5, "ü", None, True]}})
    assert parse_session_document(path.read_bytes(), source="x").session == doc.session


def test_cleanup_never_hides_the_save_error(
    store: SessionStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a read-only file system even removing a missing temp file fails (EROFS)."""
    doc = store.open()
    real_open = os.open

    def read_only(target: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(target))
        return real_open(target, flags, *args)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(os, "open", read_only)
    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(SessionFileError, match="Read-only file system; the file was not changed"):
        store.save(doc)
    monkeypatch.undo()
    assert not path.exists()
