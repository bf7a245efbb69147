"""The sessions folder (store/library.py) and the cheap facts of a file (store/summary.py)."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest

from dcaf_cli.errors import SessionLockedError, UsageError
from dcaf_cli.session.recorder import Recorder
from dcaf_cli.store import history
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.library import SessionLibrary, parse_age
from dcaf_cli.store.sessionfile import new_session_file
from dcaf_cli.store.summary import NotASession, summarize

GOLDEN = Path(__file__).parent / "golden" / "cli" / "shop.json"


def write_session(
    path: Path, inputs: list[str], *, agent: str = "shop", model: str = "offline", big: int = 0
) -> Path:
    """A session file as dcaf writes it: one turn per input (each sets a key)."""
    with SessionStore(path) as store:
        doc = store.open()
        doc.meta.update(agent=agent, model=model)
        session = doc.live_session()
        for i, text in enumerate(inputs):
            with Recorder(session) as recorder:
                session.set(f"k{i}", "x" * big or i)
            changes = recorder.changes
            history.record_turn(doc, input=text, changes=changes, tool_calls=[], reply="ok")
            store.save(doc)
    return path


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# -- the facts of one file ----------------------------------------------------------


@pytest.mark.parametrize("turns", [0, 1, 3])
def test_summary_matches_the_whole_file(tmp_path: Path, turns: int) -> None:
    path = write_session(tmp_path / "s.json", [f"say {i}" for i in range(turns)])
    if turns == 0:
        with SessionStore(path) as store:
            store.open()
            store.save(new_session_file(agent="shop", model="offline"))
    s = summarize(path)
    doc = read_session_file(path)
    assert (s.agent, s.model, s.revision) == ("shop", "offline", doc.revision)
    assert s.turns == len(doc.turns) == turns
    assert s.last_input == (doc.turns[-1]["input"] if turns else None)
    assert s.size == path.stat().st_size
    assert s.name == "s"


def test_summary_reads_only_the_ends_of_a_file_in_dcaf_layout(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.json", ["one", "two"], big=200_000)
    data = path.read_bytes()
    middle = len(data) // 3
    # Garbage in the middle of the history: only a full parse would notice.
    path.write_bytes(data[:middle] + b"\x00\x00" + data[middle + 2 :])
    s = summarize(path)
    assert (s.turns, s.last_input, s.agent) == (2, "two", "shop")


def test_a_last_turn_larger_than_the_window_is_read_whole(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.json", ["small", "huge"], big=300_000)
    assert summarize(path).last_input == "huge"


def test_a_file_in_another_layout_is_parsed_whole(tmp_path: Path) -> None:
    compact = tmp_path / "compact.json"
    compact.write_text(GOLDEN.read_text().replace("\n", " "))  # one line: not dcaf's layout
    doc = read_session_file(GOLDEN)
    s = summarize(compact)
    assert (s.turns, s.revision, s.last_input) == (
        len(doc.turns),
        doc.revision,
        doc.turns[-1]["input"],
    )


@pytest.mark.parametrize(
    ("content", "broken", "reason"),
    [
        (b'{"name": "a package", "version": "1.0"}', False, "not a dcaf session file"),
        (b"[1, 2, 3]", False, "not a dcaf session file"),
        (b"hello", False, "not a dcaf session file"),
        (b"", False, "not a dcaf session file"),
        (b'{\n  "dcaf_session": 1,\n  "sess', True, "not valid JSON"),
        (b'{"dcaf_session": 99}', True, "newer dcaf"),
        (b'{"dcaf_session": 1, "turns": {}}', True, '"turns" must be a list'),
    ],
)
def test_what_is_not_a_session_says_why(
    tmp_path: Path, content: bytes, broken: bool, reason: str
) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(content)
    with pytest.raises(NotASession) as caught:
        summarize(path)
    assert caught.value.broken is broken
    assert reason in str(caught.value)


# -- the folder -----------------------------------------------------------------------


def test_scan_lists_sessions_most_recent_first_and_skips_the_rest(tmp_path: Path) -> None:
    old = write_session(tmp_path / "old.json", ["a"])
    new = write_session(tmp_path / "new.json", ["b", "c"], agent="notes")
    age(old, 3600)
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / "broken.json").write_text('{"dcaf_session": 1, "session": [}')
    (tmp_path / ".hidden.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    listing = SessionLibrary(tmp_path).scan()
    assert [s.path for s in listing.sessions] == [new, old]
    assert [(s.path.name, s.broken) for s in listing.skipped] == [
        ("broken.json", True),
        ("package.json", False),
    ]


def test_scan_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    listing = SessionLibrary(tmp_path / "nowhere").scan()
    assert (listing.sessions, listing.skipped) == ([], [])


def test_a_session_open_in_another_writer_is_marked_open(tmp_path: Path) -> None:
    path = write_session(tmp_path / "held.json", ["a"])
    free = write_session(tmp_path / "free.json", ["b"])
    with SessionStore(path) as store:
        store.open()
        opened = {s.path: s.open for s in SessionLibrary(tmp_path).scan().sessions}
        assert opened == {path: True, free: False}
    assert not any(s.open for s in SessionLibrary(tmp_path).scan().sessions)
    assert not (tmp_path / ".free.json.lock").exists()  # looking creates nothing


def test_find_by_name_file_name_prefix_or_path(tmp_path: Path) -> None:
    library = SessionLibrary(tmp_path)
    a = write_session(tmp_path / "shop-20261201-090000.json", ["a"])
    b = write_session(tmp_path / "shop-20261202-090000.json", ["b"])
    assert library.find("shop-20261201-090000") == a
    assert library.find("shop-20261202-090000.json") == b
    assert library.find("shop-20261201") == a  # a unique start of a name
    assert library.find(str(b)) == b
    with pytest.raises(UsageError, match="names more than one session"):
        library.find("shop-")
    with pytest.raises(UsageError, match="no session named 'nothing'"):
        library.find("nothing")


def test_latest_is_the_most_recently_used_of_an_agent(tmp_path: Path) -> None:
    library = SessionLibrary(tmp_path)
    shop = write_session(tmp_path / "a.json", ["a"], agent="shop")
    notes = write_session(tmp_path / "b.json", ["b"], agent="notes")
    age(shop, 60)
    assert library.latest().path == notes
    assert library.latest("shop").path == shop
    with pytest.raises(UsageError, match="no saved session of agent 'deploy'"):
        library.latest("deploy")


def test_create_names_from_agent_and_time_and_never_reuses_a_name(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    library = SessionLibrary(folder)
    now = datetime(2026, 12, 1, 9, 30, 5)
    first, doc = library.create("shop", now)
    second, _ = library.create("shop", now)  # the same second, while the first is open
    try:
        assert first.path.name == "shop-20261201-093005.json"
        assert second.path.name == "shop-20261201-093005-2.json"
        assert doc.revision == 0
        assert not first.path.exists()  # it appears with the first save
        first.save(doc)
        assert first.path.stat().st_mode & 0o777 == 0o600
        assert folder.stat().st_mode & 0o777 == 0o700
    finally:
        first.close()
        second.close()
    third, _ = library.create("agents/my agent!.py", now)
    third.close()
    assert third.path.name == "agents-my-agent-.py-20261201-093005.json"


def test_remove_refuses_a_session_open_in_another_writer(tmp_path: Path) -> None:
    library = SessionLibrary(tmp_path)
    path = write_session(tmp_path / "s.json", ["a"])
    with SessionStore(path) as store:
        store.open()
        with pytest.raises(SessionLockedError, match="is open in another dcaf"):
            library.remove(path)
        assert path.exists()
    library.remove(path)
    assert not path.exists()
    assert not (tmp_path / ".s.json.lock").exists()


def test_older_than_leaves_open_sessions_apart(tmp_path: Path) -> None:
    library = SessionLibrary(tmp_path)
    old = write_session(tmp_path / "old.json", ["a"])
    held = write_session(tmp_path / "held.json", ["b"])
    write_session(tmp_path / "new.json", ["c"])
    for path in (old, held):
        age(path, 40 * 86400)
    with SessionStore(held) as store:
        store.open()
        free, busy = library.older_than(parse_age("30d"))
    assert [s.path for s in free] == [old]
    assert [s.path for s in busy] == [held]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200), ("2w", 14 * 86400), ("90m", 5400)]
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "thirty days", "-1d", "1y"])
def test_parse_age_refuses_what_is_not_an_age(text: str) -> None:
    with pytest.raises(UsageError, match="is not an age"):
        parse_age(text)


def test_a_large_meta_is_read_from_the_end_too(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.json", ["one"], big=20_000)
    with SessionStore(path) as store:
        doc = store.open()
        doc.meta["context"] = {"notes": "y" * 100_000}  # meta larger than the first read
        store.save(doc)
    data = path.read_bytes()
    inside = data.index(b"xxxx")  # in the session data: a whole parse would fail
    path.write_bytes(data[:inside] + b"\x00" + data[inside + 1 :])
    s = summarize(path)
    assert (s.turns, s.last_input, s.revision) == (1, "one", 2)
