"""Files, the REPL and secrets against careless users and hostile data: text that is not
Unicode, a failed save at Ctrl-D, a file growing past what dcaf reads, deep and huge
numbers, a stream cut short, an unwritable home, a tool calling sys.exit, temp files that
are not dcaf's, and secrets in command lines, URLs, PEM keys and upstream errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import AGENTS, DCAF, run_dcaf
from fakes.openai_server import FakeOpenAIServer, Reply, stream_events
from repl_helpers import conversation_for, run_repl

from dcaf_cli.errors import ExitStatus
from dcaf_cli.repl.prompt_history import prompt_history
from dcaf_cli.session.jsonvalue import MAX_DEPTH, same
from dcaf_cli.store.filestore import read_session_file
from dcaf_cli.store.records import turn_contents

KEY = "sk-test-0123456789abcdefghij"
DB_URL = "postgres://admin:hunter22@db.internal/shop"


def write(path: Path, session: dict[str, object], **extra: object) -> Path:
    doc = {"dcaf_session": 1, "session": session, "messages": [], "turns": [], "meta": {}}
    path.write_text(json.dumps({**doc, **extra}))
    return path


# -- text that is not Unicode ------------------------------------------------------------


def test_an_undecodable_message_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    bad = b"/add_to_cart \xff".decode("utf-8", "surrogateescape")  # how argv arrives
    result = run_dcaf(capsys, monkeypatch, "run", "shop", "--session", path, "-m", bad)
    assert result.status == ExitStatus.BAD_INPUT
    assert result.err.startswith("dcaf: error: -m message 1 is not valid UTF-8 text")
    assert not path.exists()


def test_undecodable_stdin_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    done = subprocess.run(
        [str(DCAF), "run", "shop", "--session", str(path)],
        input=b"add 1 widget\n/add_to_cart \xff\n",
        capture_output=True,
        check=False,
    )
    assert done.returncode == ExitStatus.BAD_INPUT
    assert b"dcaf: error: stdin line 2 is not valid UTF-8 text" in done.stderr
    assert b"Traceback" not in done.stderr
    assert read_session_file(path).session["cart"] == [{"item": "widget", "quantity": 1}]


def test_a_tool_storing_or_returning_broken_text_leaves_a_saveable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    agent = f"{AGENTS}:HOSTILE"
    result = run_dcaf(capsys, monkeypatch, "run", agent, "--session", path, "-m", "/store_broken")
    assert result.status == 0
    assert "session key 'note': value holds text that is not valid Unicode" in result.out
    result = run_dcaf(capsys, monkeypatch, "run", agent, "--session", path, "-m", "/say_broken")
    assert result.status == 0, result.err
    doc = read_session_file(path)
    assert "note" not in doc.session  # the failing tool's change was rolled back
    assert turn_contents(doc)[-1].tool_calls[0]["output"] == "half \ufffd"


# -- a failed save is never silent -------------------------------------------------------


@pytest.fixture
def tiny_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCAF_MAX_FILE_MB", "0.002")  # 2,000 bytes


def test_the_writer_refuses_to_cross_the_readers_limit(
    tmp_path: Path, tiny_limit: None, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = write(tmp_path / "s.json", {})
    before = path.read_bytes()
    big = "/add_to_cart " + "w" * 3000
    result = run_dcaf(capsys, monkeypatch, "run", "shop", "--session", path, "-m", big)
    assert result.status == ExitStatus.ERROR
    assert "over the 0.002 MB dcaf reads; the file was not changed" in result.err
    assert path.read_bytes() == before
    assert read_session_file(path).session == {}  # and it still opens


def test_ctrl_d_after_a_failed_save_warns_asks_and_offers_save(
    tmp_path: Path, tiny_limit: None
) -> None:
    path = write(tmp_path / "s.json", {})
    other = tmp_path / "kept.json"
    big = "/add_to_cart " + "w" * 3000 + " 1"

    def save_elsewhere() -> str:  # a file without the limit's problem
        os.environ.pop("DCAF_MAX_FILE_MB")
        return f"/save {other}"

    run = run_repl(conversation_for("shop", path), [big, "\x04", "n", save_elsewhere, "\x04"])
    assert run.asked == ["leave without saving? [y/N] "]  # once: after /save, nothing to lose
    said = " ".join(run.output.split())
    assert "does not have the last turns: saving them failed. Keep them with /save FILE" in said
    assert read_session_file(other).session["cart"][0]["item"].startswith("www")
    assert read_session_file(path).session == {}


def test_a_script_whose_save_fails_exits_non_zero(
    tmp_path: Path, tiny_limit: None, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = write(tmp_path / "s.json", {})
    args = (
        "run",
        "shop",
        "--session",
        path,
        "-m",
        "add 1 widget",
        "-m",
        "/add_to_cart " + "w" * 3000,
    )
    assert run_dcaf(capsys, monkeypatch, *args).status == ExitStatus.ERROR


# -- numbers, depth and crashes in files --------------------------------------------------


def test_validate_handles_deep_data_and_huge_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deep: object = 0
    for _ in range(400):
        deep = {"a": deep}
    path = write(tmp_path / "deep.json", {"deep": deep})
    result = run_dcaf(capsys, monkeypatch, "session", "validate", path)
    assert result.status == 0, result.err
    huge = tmp_path / "huge.json"
    huge.write_text('{"dcaf_session": 1, "session": {"n": ' + "9" * 5000 + "}}")
    result = run_dcaf(capsys, monkeypatch, "session", "validate", huge)
    assert result.status == ExitStatus.BAD_INPUT
    assert "an integer of 5000 digits is longer than 4300" in result.err


def deep_value(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def test_the_deepest_session_a_file_holds_works_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "deep.json", {"deep": deep_value(MAX_DEPTH)})
    for args in (
        ("session", "show", path), ("session", "show", path, "--json"),
        ("session", "get", path, "deep"), ("session", "validate", path),
        ("session", "set", path, "n", "1"), ("session", "diff", path, "--turn", "0"),
        ("session", "export", path, "-f", "markdown"), ("session", "log", path),
        ("run", "shop", "--session", path, "-m", "add 1 widget"),
        ("session", "undo", path), ("session", "new", tmp_path / "copy.json", "--from", path),
    ):  # fmt: skip
        result = run_dcaf(capsys, monkeypatch, *args)
        assert result.status == 0, (args, result.err)
    run = run_repl(conversation_for("shop", path), ["add 2 widgets", "/session", "/undo"])
    assert "Traceback" not in run.output
    assert "saved" in run.output
    doc = read_session_file(path)
    assert same(doc.session["deep"], deep_value(MAX_DEPTH))
    assert same(read_session_file(tmp_path / "copy.json").session, doc.session)


def test_deeper_data_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "deeper.json"
    path.write_text('{"dcaf_session": 1, "session": {"d": ' + "[" * 5000 + "]" * 5000 + "}}")
    for command in ("show", "validate"):
        result = run_dcaf(capsys, monkeypatch, "session", command, path)
        assert result.status == ExitStatus.BAD_INPUT
        assert result.err.count("\n") == 1
        assert "is nested too deeply to read" in result.err
    path = write(tmp_path / "s.json", {})
    deeper = json.dumps(deep_value(MAX_DEPTH + 1))
    result = run_dcaf(capsys, monkeypatch, "session", "set", path, "d", deeper)
    assert result.status == ExitStatus.BAD_INPUT
    assert f"is nested deeper than {MAX_DEPTH} levels" in result.err
    assert read_session_file(path).session == {}


BROKEN_RECORDS = {
    "strings": [{"n": "x", "patch": "y", "undo": None, "messages": "z", "tool_calls": "q"}],
    "bad pointer": [{"n": 1, "patch": [], "undo": [{"op": "remove", "path": "nope"}]}],
    "counts over": [{"n": 1, "patch": [], "undo": [], "messages": 9}],
}


@pytest.mark.parametrize("turns", BROKEN_RECORDS.values(), ids=list(BROKEN_RECORDS))
def test_hand_broken_records_are_findings_not_crashes(
    tmp_path: Path, turns: list[object], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = write(tmp_path / "s.json", {}, turns=turns, messages=[{"role": "user"}])
    for args in (("validate",), ("log",), ("show",), ("diff", "--turn", "0"), ("undo",)):
        result = run_dcaf(capsys, monkeypatch, "session", args[0], path, *args[1:])
        assert result.status in (ExitStatus.OK, ExitStatus.BAD_INPUT), (args, result.err)
        assert result.err.count("\n") <= 1
        if args == ("validate",):
            assert result.status == ExitStatus.BAD_INPUT


def test_validate_finds_the_message_count_undo_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    turn = {"n": 1, "at": "2026-01-01T00:00:00Z", "input": "x", "kind": "chat"}
    turns = [{**turn, "patch": [], "undo": [], "messages": "x"}]
    path = write(tmp_path / "s.json", {}, turns=turns)
    undo = run_dcaf(capsys, monkeypatch, "session", "undo", path)
    assert undo.status == ExitStatus.BAD_INPUT
    assert "\"messages\" count is 'x', not a whole number" in undo.err
    result = run_dcaf(capsys, monkeypatch, "session", "validate", path)
    assert result.status == 2, result.out
    assert "turns: turn 1's \"messages\" count is 'x', not a whole number" in result.out
    turns = [{**turn, "patch": [], "undo": [], "messages": 1}]
    result = run_dcaf(capsys, monkeypatch, "session", "validate", write(path, {}, turns=turns))
    assert "the records count 1 message, but the file has 0" in result.out


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1" + "0" * 400 + ".0"])
def test_a_number_too_large_for_a_float_is_refused_on_load(
    tmp_path: Path, number: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = tmp_path / "s.json"
    path.write_text('{"dcaf_session": 1, "session": {"n": ' + number + "}}")
    before = path.read_bytes()
    result = run_dcaf(capsys, monkeypatch, "run", "shop", "--session", path, "-m", "hi")
    assert result.status == ExitStatus.BAD_INPUT
    assert "is too large for a 64-bit float" in result.err
    assert path.read_bytes() == before


def test_a_crash_is_never_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dcaf_cli.store import validation

    def broken(path: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(validation, "validate_file", broken)
    result = run_dcaf(capsys, monkeypatch, "session", "validate", write(tmp_path / "s.json", {}))
    assert result.status == ExitStatus.BUG
    assert int(ExitStatus.BUG) == 70
    assert "this is a bug in dcaf" in result.err


# -- a model stream cut short ------------------------------------------------------------


def test_a_stream_cut_short_fails_the_turn_and_rolls_it_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "s.json", {"cart": []})
    before = path.read_bytes()
    whole = [e for e in stream_events(Reply.say("Added ", "2 widg")) if e.get("choices")]
    cut = "".join(
        f"data: {json.dumps(e)}\n\n" for e in whole if not e["choices"][0]["finish_reason"]
    )
    with FakeOpenAIServer() as server:
        server.queue(Reply(body=cut, content_type="text/event-stream"))
        result = run_dcaf(
            capsys, monkeypatch, "run", "shop", "--session", path, "--model", "openai:fake",
            "--base-url", server.url, "--api-key", "k", "-m", "add 2 widgets",
        )  # fmt: skip
    assert result.status == ExitStatus.ERROR
    assert "the reply was cut short" in result.err
    assert path.read_bytes() == before


# -- the REPL without a writable home -----------------------------------------------------


def test_an_unwritable_home_turns_history_off_and_says_so_once(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    said: list[str] = []
    history = prompt_history(blocker / "dcaf" / "history", said.append)
    history.append_string("first")
    history.append_string("second")
    assert list(history.load_history_strings()) == ["second", "first"]
    assert len(said) == 1
    assert "prompt history is off for this run" in said[0]


# -- tools, temp files, folders ------------------------------------------------------------


def test_a_tool_calling_sys_exit_cannot_end_dcaf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    args = ("run", f"{AGENTS}:HOSTILE", "--session", path, "-m", "/leave", "-m", "/store_fine")
    result = run_dcaf(capsys, monkeypatch, *args)
    assert result.status == 0, result.err
    assert "the tool called sys.exit(3); agent code cannot end dcaf" in result.out
    assert read_session_file(path).session == {"fine": True}


def test_only_dcafs_own_temp_files_are_cleaned_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "s.json", {})
    stale = tmp_path / ".s.json.0badc0de.tmp"
    theirs = [tmp_path / ".s.json.backup.tmp", tmp_path / ".s.json.0BADC0DE.tmp"]
    for file in (stale, *theirs):
        file.write_text("x")
    assert run_dcaf(capsys, monkeypatch, "run", "shop", "--session", path, "-m", "hi").status == 0
    assert not stale.exists()
    assert all(file.exists() for file in theirs)


# -- secrets --------------------------------------------------------------------------------


def test_api_key_is_neither_stored_in_the_lock_nor_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "s.json", {})
    argv = ["dcaf", "run", "shop", "--session", str(path), "--api-key", KEY, "-m", "hi"]
    monkeypatch.setattr("sys.argv", argv)
    written: list[bytes] = []
    real_pwrite = os.pwrite

    def spy(fd: int, data: bytes, offset: int) -> int:  # what goes into the lock file
        written.append(bytes(data))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", spy)
    result = run_dcaf(capsys, monkeypatch, *argv[1:5], "-m", "hi")
    assert result.status == 0, result.err
    holder = json.loads(b"".join(written))
    assert KEY not in holder["command"]
    assert "--api-key" in holder["command"]  # the command is there, its value is not


def test_the_locked_error_masks_a_key_an_older_dcaf_wrote(tmp_path: Path) -> None:
    path = write(tmp_path / "s.json", {})
    # The file by its name, from its folder: the error quotes the holder's command whole
    # only while it is short, and the temporary folder's path is not.
    command = [str(DCAF), "run", "shop", "--session", path.name, "--api-key", KEY]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp_path}
    with subprocess.Popen(command, stdin=subprocess.PIPE, **quiet) as holder:  # type: ignore[call-overload]
        try:
            lock = tmp_path / ".s.json.lock"
            for _ in range(600):  # until it holds the lock (then it waits for stdin)
                if lock.exists() and lock.read_bytes():
                    break
                subprocess.run(["sleep", "0.05"], check=False)
            done = subprocess.run(
                [str(DCAF), "run", "shop", "--session", path.name, "-m", "hi"],
                capture_output=True, text=True, check=False, cwd=tmp_path,
            )  # fmt: skip
        finally:
            holder.kill()
    assert done.returncode == ExitStatus.LOCKED
    assert KEY not in done.stderr
    assert "--api-key '‹redacted›'" in done.stderr


def test_credentials_in_base_urls_are_masked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://admin:pw-secret@127.0.0.1:9/v1")
    for args in (("models",), ("models", "--json")):
        result = run_dcaf(capsys, monkeypatch, *args)
        assert "pw-secret" not in result.text
    openai = next(row for row in json.loads(result.out) if row["provider"] == "openai")
    assert openai["uses"].startswith("http://admin:‹redacted›@127.0.0.1:9/v1")


def test_debug_never_prints_the_key_an_upstream_error_echoes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "local-key-that-matches-no-pattern"
    with FakeOpenAIServer() as server:
        server.queue(Reply.error(401, f"Incorrect API key provided: {secret}"))
        result = run_dcaf(
            capsys, monkeypatch, "--debug", "run", "shop", "--session", tmp_path / "s.json",
            "--model", "openai:fake", "--base-url", server.url, "--api-key", secret,
            "-m", "hi",
        )  # fmt: skip
    assert result.status == ExitStatus.ERROR
    assert "401" in result.err
    assert secret not in result.text


def test_pem_bodies_and_url_passwords_are_redacted_in_every_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    agent = f"{AGENTS}:HOSTILE"
    result = run_dcaf(capsys, monkeypatch, "run", agent, "--session", path, "-m", f"/keep {DB_URL}")
    assert result.status == 0, result.err
    result = run_dcaf(
        capsys, monkeypatch, "run", agent, "--session", path, "-m", "/keep_pem"
    )  # the diff and the tool-call line of this turn
    assert result.status == 0, result.err
    views = [result.out]
    for args in (("session", "show", path), ("session", "log", path)):
        views.append(run_dcaf(capsys, monkeypatch, *args).out)
    views.append(run_dcaf(capsys, monkeypatch, "session", "export", path, "-f", "markdown").out)
    for view in views:
        assert "hunter22" not in view
        assert "secretbody" not in view
    assert any("postgres://admin:‹redacted›@db.internal/shop" in view for view in views)
