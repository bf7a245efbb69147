"""`dcaf run` without --session, -c, --resume, --no-save; `dcaf session ls/rm/prune`.

The user folder is a temp path (conftest's autouse fixture): `DCAF_SESSIONS_DIR` points
at `tmp_path / "sessions"`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import Result, run_dcaf
from test_library import age, write_session

from dcaf_cli.cli.run import bare_resume
from dcaf_cli.errors import ExitStatus
from dcaf_cli.store.filestore import SessionStore, read_session_file


@pytest.fixture
def dcaf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str | Path, stdin: str = "") -> Result:
        return run_dcaf(capsys, monkeypatch, *args, stdin=stdin)

    return run


def only_file(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if not p.name.startswith(".")]
    assert len(files) == 1, files
    return files[0]


# -- dcaf run -------------------------------------------------------------------------


def test_a_run_without_session_saves_in_the_folder_and_c_continues_it(
    dcaf: Any, sessions_dir: Path
) -> None:
    first = dcaf("run", "shop", "-m", "add 2 widgets")
    assert first.status == 0, first.err
    path = only_file(sessions_dir)
    assert path.name.startswith("shop-")
    assert path.suffix == ".json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert f"saved {path} (revision 1)" in first.text
    second = dcaf("run", "-c", "-m", "add 1 gadget")  # no agent: the one recorded
    assert second.status == 0, second.err
    assert f"saved {path} (revision 2)" in second.text
    assert only_file(sessions_dir) == path
    doc = read_session_file(path)
    assert [t["input"] for t in doc.turns] == ["add 2 widgets", "add 1 gadget"]
    assert doc.session["cart"] == [
        {"item": "widget", "quantity": 2},
        {"item": "gadget", "quantity": 1},
    ]
    assert doc.meta["agent"] == "shop"


def test_c_with_an_agent_continues_that_agents_latest(dcaf: Any, sessions_dir: Path) -> None:
    assert dcaf("run", "shop", "-m", "add 2 widgets").status == 0
    shop = only_file(sessions_dir)
    age(shop, 60)
    assert dcaf("run", "notes", "-m", "/remember color blue").status == 0
    r = dcaf("run", "shop", "-c", "-m", "/view_cart")
    assert r.status == 0, r.err
    assert f"saved {shop} (revision 2)" in r.text
    assert "2x widget" in r.out
    nothing = dcaf("run", "deploy", "-c", "-m", "hi")
    assert nothing.status == ExitStatus.BAD_INPUT
    assert "there is no saved session of agent 'deploy'" in nothing.err


def test_c_with_an_empty_folder_says_how_to_start(dcaf: Any) -> None:
    r = dcaf("run", "-c", "-m", "hi")
    assert r.status == ExitStatus.BAD_INPUT
    assert r.err.startswith("dcaf: error: there is no saved session in ")
    assert "start one with `dcaf run AGENT`" in r.err


def test_resume_name_picks_directly(dcaf: Any, sessions_dir: Path) -> None:
    sessions_dir.mkdir()
    write_session(sessions_dir / "cart-a.json", ["first"])
    other = write_session(sessions_dir / "cart-b.json", ["second"])
    age(other, 60)
    r = dcaf("run", "--resume", "cart-b", "-m", "/view_cart")
    assert r.status == 0, r.err
    assert f"saved {other} (revision 2)" in r.text
    assert [t["input"] for t in read_session_file(other).turns] == ["second", "/view_cart"]
    again = dcaf("run", "-m", "/view_cart", "--resume", "cart-b.json")
    assert f"saved {other} (revision 3)" in again.text
    missing = dcaf("run", "--resume", "nope", "-m", "hi")
    assert missing.status == ExitStatus.BAD_INPUT
    assert "no session named 'nope'" in missing.err


def test_resume_without_a_name_needs_a_terminal(dcaf: Any) -> None:
    r = dcaf("run", "--resume", "-m", "hi")
    assert r.status == ExitStatus.BAD_INPUT
    assert "--resume without a NAME asks which session, and there is no terminal" in r.err


def test_the_recorded_model_is_used_unless_given(
    dcaf: Any, sessions_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "model.json"
    script.write_text(json.dumps([{"text": "scripted reply"}, {"text": "again"}]))
    assert dcaf("run", "shop", "--model", f"script:{script}", "-m", "hello").status == 0
    r = dcaf("run", "-c", "-m", "hello again", "--json")
    assert r.status == 0, r.err
    assert r.json_lines[0]["reply"] == "scripted reply"  # the script model, not offline
    given = dcaf("run", "-c", "--model", "offline", "-m", "/view_cart", "--json")
    assert given.json_lines[0]["reply"].startswith("Your cart is empty")
    assert read_session_file(only_file(sessions_dir)).meta["model"] == "offline"


def test_a_session_open_in_another_dcaf_is_refused(dcaf: Any, sessions_dir: Path) -> None:
    sessions_dir.mkdir()
    path = write_session(sessions_dir / "held.json", ["a"])
    with SessionStore(path) as store:
        store.open()
        r = dcaf("run", "-c", "-m", "hi")
    assert r.status == ExitStatus.LOCKED
    assert "held.json is open in another dcaf" in r.err
    assert len(read_session_file(path).turns) == 1


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["-c", "--session", "x.json"], "--session and --continue"),
        (["--no-save", "--resume", "x"], "--no-save and --resume"),
        (["-c", "--resume", "x"], "--continue and --resume"),
    ],
)
def test_ways_to_choose_the_file_exclude_each_other(
    dcaf: Any, sessions_dir: Path, args: list[str], named: str
) -> None:
    r = dcaf("run", *args, "-m", "hi")
    assert r.status == ExitStatus.BAD_INPUT
    assert f"{named} cannot be used together" in r.err
    assert not sessions_dir.exists()


def test_bare_resume_gets_an_empty_name() -> None:
    assert bare_resume(["--resume"]) == ["--resume", ""]
    assert bare_resume(["-r", "-m", "x"]) == ["-r", "", "-m", "x"]
    assert bare_resume(["--resume", "shop-1"]) == ["--resume", "shop-1"]
    assert bare_resume(["-m", "--", "--resume"]) == ["-m", "--", "--resume"]


def test_the_default_folder_is_sessions_in_dcaf_home(
    dcaf: Any, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DCAF_SESSIONS_DIR")
    assert dcaf("run", "counter", "-m", "/increment").status == 0
    assert only_file(isolated_env / "sessions").name.startswith("counter-")


# -- dcaf session ls ------------------------------------------------------------------


@pytest.fixture
def mixed(sessions_dir: Path) -> dict[str, Path]:
    """A sessions folder with two sessions, foreign JSON, a text file and a broken session."""
    sessions_dir.mkdir()
    files = {
        "old": write_session(sessions_dir / "old.json", ["add 2 widgets"], agent="shop"),
        "new": write_session(sessions_dir / "new.json", ["a", "b"], agent="notes"),
    }
    age(files["old"], 3 * 3600)
    (sessions_dir / "package.json").write_text('{"name": "not a session"}')
    (sessions_dir / "notes.txt").write_text("hello")
    (sessions_dir / "broken.json").write_text('{\n  "dcaf_session": 1,\n  "session": {"a": ')
    return files


def test_ls_lists_sessions_and_skips_the_rest_with_a_count(
    dcaf: Any, mixed: dict[str, Path]
) -> None:
    with SessionStore(mixed["old"]) as store:
        store.open()
        r = dcaf("session", "ls")
    assert r.status == 0, r.err
    assert r.err == ""
    rows = [line.split() for line in r.out.splitlines()]
    assert rows[0] == ["name", "agent", "model", "turns", "revision", "last", "used", "size"]
    assert rows[1][:5] == ["new", "notes", "offline", "2", "2"]
    assert rows[2][:7] == ["old", "(open)", "shop", "offline", "1", "1", "3"]
    assert rows[2][7:9] == ["h", "ago"]
    assert "skipped 2 files that are not session files: notes.txt, package.json" in r.out
    assert "skipped broken.json: a dcaf session file that is not valid JSON" in r.out


def test_ls_json_for_scripts(dcaf: Any, mixed: dict[str, Path], sessions_dir: Path) -> None:
    r = dcaf("session", "ls", "--json")
    assert r.status == 0
    out = json.loads(r.out)
    assert out["folder"] == str(sessions_dir)
    assert [s["name"] for s in out["sessions"]] == ["new", "old"]
    new = out["sessions"][0]
    assert new["turns"] == 2
    assert new["revision"] == 2
    assert new["last_input"] == "b"
    assert new["size"] == mixed["new"].stat().st_size
    assert new["open"] is False
    assert time.time() - time.mktime(time.strptime(new["last_used"], "%Y-%m-%dT%H:%M:%SZ")) < (
        86400 + 3600
    )  # a UTC timestamp of about now (mktime reads it as local time)
    assert {Path(s["path"]).name: s["broken"] for s in out["skipped"]} == {
        "broken.json": True,
        "notes.txt": False,
        "package.json": False,
    }


def test_ls_of_another_folder_and_of_nothing(dcaf: Any, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    write_session(other / "kept.json", ["x"])
    assert "kept" in dcaf("session", "ls", other).out
    empty = dcaf("session", "ls")
    assert empty.status == 0
    assert "no sessions in" in empty.out
    missing = dcaf("session", "ls", tmp_path / "nowhere")
    assert missing.status == ExitStatus.BAD_INPUT
    assert "is not a folder" in missing.err


# -- rm and prune ---------------------------------------------------------------------


def test_rm_removes_by_name_and_leaves_an_open_session(dcaf: Any, mixed: dict[str, Path]) -> None:
    with SessionStore(mixed["old"]) as store:
        store.open()
        r = dcaf("session", "rm", "new", "old", "package", "broken")
    assert r.status == ExitStatus.LOCKED
    assert "removed new" in r.out
    assert "old.json is open in another dcaf" in r.err
    assert "package.json: not a dcaf session file; it was not removed" in r.err
    assert not mixed["new"].exists()
    assert mixed["old"].exists()
    assert (mixed["old"].parent / "package.json").exists()
    assert not (mixed["old"].parent / "broken.json").exists()  # broken, but a session file


def test_prune_asks_then_removes_old_sessions_but_never_an_open_one(
    dcaf: Any, sessions_dir: Path
) -> None:
    sessions_dir.mkdir()
    old = write_session(sessions_dir / "old.json", ["a"])
    held = write_session(sessions_dir / "held.json", ["b"])
    recent = write_session(sessions_dir / "recent.json", ["c"])
    foreign = sessions_dir / "data.json"
    foreign.write_text("{}")
    for path in (old, held, foreign):
        age(path, 40 * 86400)
    with SessionStore(held) as store:
        store.open()
        declined = dcaf("session", "prune", "--older-than", "30d", stdin="n\n")
        assert declined.status == 0
        assert "Remove these 1 session?" in declined.out
        assert "nothing removed" in declined.out
        assert old.exists()
        r = dcaf("session", "prune", "--older-than", "30d", "--yes")
    assert r.status == 0, r.err
    assert "skipped held: open in another dcaf" in r.out
    assert "removed 1 session" in r.out
    assert not old.exists()
    assert held.exists()
    assert recent.exists()
    assert foreign.exists()
    assert os.listdir(sessions_dir).count(".held.json.lock") == 0  # the holder closed it


def test_prune_with_yes_typed(dcaf: Any, sessions_dir: Path) -> None:
    sessions_dir.mkdir()
    old = write_session(sessions_dir / "old.json", ["a"])
    age(old, 3 * 3600)
    r = dcaf("session", "prune", "--older-than", "2h", stdin="y\n")
    assert r.status == 0
    assert not old.exists()
    none = dcaf("session", "prune", "--older-than", "2h")
    assert "no sessions older than 2h" in none.out
    bad = dcaf("session", "prune", "--older-than", "soon")
    assert bad.status == ExitStatus.BAD_INPUT
    assert "'soon' is not an age" in bad.err
