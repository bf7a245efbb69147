"""Every `dcaf session` command on a missing, corrupt, future-version or locked file.

One line on stderr, no traceback, exit code 2 (3 when another dcaf holds the file for an
edit), and the file byte-identical afterwards with nothing left beside it. Reading a file
another dcaf holds is fine: saves are atomic, so it is always read whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import SHOP, invoke, make_workdir

from dcaf_cli.store.filestore import SessionStore

DCAF = Path(sys.executable).with_name("dcaf")
READS = [
    ["show", "{f}"],
    ["show", "{f}", "--json", "--turn", "1"],
    ["log", "{f}"],
    ["diff", "{f}"],
    ["diff", "ok.json", "{f}"],
    ["get", "{f}", "cart"],
    ["export", "{f}", "--format", "markdown"],
    ["validate", "{f}"],
]
EDITS = [
    ["set", "{f}", "cart[0].quantity", "3"],
    ["delete", "{f}", "cart"],
    ["clear", "{f}", "--yes"],
    ["clear", "{f}"],
    ["undo", "{f}"],
]
BAD = {
    "corrupt": b'{"dcaf_session": 1, "session": {"cart": [\n',
    "future": b'{"dcaf_session": 99, "session": {}}\n',
    "not an object": b"[1, 2]\n",
}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = make_workdir(tmp_path, monkeypatch)
    (folder / "ok.json").write_bytes(SHOP.read_bytes())
    return folder


def command(args: list[str], file: str) -> list[str]:
    return ["session", *(a.format(f=file) for a in args)]


def assert_one_line_error(err: str, *words: str) -> None:
    assert err.startswith("dcaf: error: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("args", [*READS, *EDITS], ids=" ".join)
def test_bad_file(
    capsys: pytest.CaptureFixture[str], work: Path, kind: str, args: list[str]
) -> None:
    Path("bad.json").write_bytes(BAD[kind])
    result = invoke(capsys, *command(args, "bad.json"))
    assert (result.code, result.out) == (2, "")
    assert_one_line_error(result.err, "bad.json")
    assert Path("bad.json").read_bytes() == BAD[kind]
    assert sorted(os.listdir()) == ["bad.json", "ok.json", "shop.json"]


@pytest.mark.parametrize("args", [*READS, *EDITS], ids=" ".join)
def test_missing_file(capsys: pytest.CaptureFixture[str], work: Path, args: list[str]) -> None:
    result = invoke(capsys, *command(args, "gone/missing.json"))
    assert (result.code, result.out) == (2, "")
    assert_one_line_error(result.err, "gone/missing.json", "does not exist")
    assert not Path("gone").exists()  # an edit must not even create the folder


def test_new_from_a_bad_file_creates_nothing(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    for content in BAD.values():
        Path("bad.json").write_bytes(content)
        result = invoke(capsys, "session", "new", "fresh.json", "--from", "bad.json")
        assert result.code == 2
        assert not Path("fresh.json").exists()
        assert_one_line_error(result.err, "bad.json")
    result = invoke(capsys, "session", "new", "fresh.json", "--from", "nowhere.json")
    assert result.code == 2
    assert not Path("fresh.json").exists()


@pytest.fixture
def held(work: Path) -> Iterator[Path]:
    """`shop.json` held open by a second writer, as a running `dcaf run` holds it."""
    with SessionStore(work / "shop.json") as store:
        store.open()
        yield work / "shop.json"


@pytest.mark.parametrize("args", EDITS, ids=" ".join)
def test_locked_file_refuses_edits(
    capsys: pytest.CaptureFixture[str], held: Path, args: list[str]
) -> None:
    before = held.read_bytes()
    result = invoke(capsys, *command([*args, "--yes"] if args[0] == "clear" else args, "shop.json"))
    assert (result.code, result.out) == (3, "")
    assert_one_line_error(result.err, "shop.json is open in another dcaf", "pid")
    assert held.read_bytes() == before


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_locked_file_can_still_be_read(
    capsys: pytest.CaptureFixture[str], held: Path, args: list[str]
) -> None:
    before = held.read_bytes()
    result = invoke(capsys, *command(args, "shop.json"))
    assert result.code in {0, 1}, result  # validate: 1 = warnings
    assert result.err == ""
    assert held.read_bytes() == before


def test_new_on_a_file_held_before_its_first_save(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    with SessionStore(work / "fresh.json") as store:
        store.open()  # `dcaf run --session fresh.json` before its first turn
        result = invoke(capsys, "session", "new", "fresh.json")
    assert result.code == 3
    assert not (work / "fresh.json").exists()
    assert_one_line_error(result.err, "is open in another dcaf")


def test_installed_dcaf_refuses_a_file_a_running_process_holds(work: Path) -> None:
    holder = textwrap.dedent(
        """
        import sys, time
        from dcaf_cli.store.filestore import SessionStore
        store = SessionStore(sys.argv[1]); store.open()
        print("held", flush=True); time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", holder, "shop.json"], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "held\n"
            before = Path("shop.json").read_bytes()
            done = subprocess.run(
                [DCAF, "session", "set", "shop.json", "x", "1"],
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            proc.kill()
    assert (done.returncode, done.stdout) == (3, "")
    assert_one_line_error(done.stderr, f"pid {proc.pid}")
    assert Path("shop.json").read_bytes() == before
    assert json.loads(before)["session"].get("x") is None
