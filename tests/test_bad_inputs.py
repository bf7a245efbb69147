"""A corpus of bad inputs to `dcaf run`: each is refused with ONE line on stderr, the
documented exit code, no traceback, and the session file byte for byte as it was.

Then the inputs that are not refused but must be shown safely (markup, escape codes,
secrets, failing tools): exit 0, nothing interpreted, nothing leaked.

In-process through `run_cli` (fast); `test_corpus_through_the_installed_program` runs a
sample through the real `dcaf` to show the in-process results hold for the program too.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import AGENTS, DCAF, Result, run_dcaf

import dcaf_cli.store.filestore as store_module
from dcaf_cli.errors import ExitStatus
from dcaf_cli.store.filestore import SessionStore, read_session_file

OK_DOC = json.dumps(
    {
        "dcaf_session": 1,
        "session": {"cart": [{"item": "widget", "quantity": 2}]},
        "messages": [],
        "turns": [],
        "meta": {"revision": 4},
    },
    indent=2,
).encode()

BIG_DOC = json.dumps({"dcaf_session": 1, "session": {"notes": "x" * 5000}}).encode()

Setup = Callable[[Path, pytest.MonkeyPatch], None]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # `{file}` is the session file, `{dir}` its folder
    error: str  # a regex the one stderr line must match
    content: bytes | None = OK_DOC  # the file before the run; None: no file
    status: ExitStatus = ExitStatus.BAD_INPUT
    setup: Setup | None = None
    env: dict[str, str] = field(default_factory=dict)


def write(name: str, text: str) -> Setup:
    def setup(folder: Path, mp: pytest.MonkeyPatch) -> None:
        (folder / name).write_text(text)

    return setup


def script(replies: Any) -> Setup:
    return write("model.json", json.dumps(replies))


def no_openai_sdk(folder: Path, mp: pytest.MonkeyPatch) -> None:
    mp.setitem(sys.modules, "openai", None)  # `import openai` raises ImportError


def disk_full(folder: Path, mp: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    mp.setattr(store_module, "_write_all", full)


def read_only_folder(folder: Path, mp: pytest.MonkeyPatch) -> None:
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return
    # root ignores permissions: refuse writes in this folder the way the kernel would.
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        creates = flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR)
        if creates and Path(os.fspath(path)).parent == folder:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    mp.setattr(os, "open", refusing_open)


def fifo(folder: Path, mp: pytest.MonkeyPatch) -> None:
    os.mkfifo(folder / "pipe.json")


def deep(opening: str, closing: str, inner: str = "1") -> bytes:
    return ('{"a": ' + opening * 100_000 + inner + closing * 100_000 + "}").encode()


SHOP = ("run", "shop", "-s", "{file}")
TURN = (*SHOP, "-m", "add 1 widget")
FILE_ERR = r"^dcaf: error: {file}"

# fmt: off
CORPUS = [
    # -- the session file: not JSON -------------------------------------------------------
    Case("corrupt-json", TURN,
         FILE_ERR + r": line 1 column 33: not valid JSON: Expecting property name enclosed in "
         r"double quotes; fix it in an editor, or move it aside to start a new session$",
         b'{"dcaf_session": 1, "session": {,}}'),
    Case("truncated-json", TURN,
         FILE_ERR + r": line 11 column 3: not valid JSON: the file ends too early \(Expecting "
         r"property name enclosed in double quotes; was it cut short\?\)",
         OK_DOC[: OK_DOC.index(b'"messages"')]),
    Case("cut-inside-a-string", TURN,
         FILE_ERR + r": line 6 column 17: not valid JSON: Unterminated string",
         OK_DOC[: OK_DOC.index(b"widget") + 3]),
    Case("cut-after-brace", TURN, FILE_ERR + r": line 1 column 2: .*ends too early", b"{"),
    Case("trailing-garbage", TURN, FILE_ERR + r": line 1 column 10: not valid JSON: Extra data",
         b'{"a": 1} trailing'),
    Case("nul-bytes", TURN, FILE_ERR + r": line 1 column 1: not valid JSON", b"\x00\x00\x00"),
    Case("nan", TURN, FILE_ERR + r": .*NaN is not valid JSON \(numbers must be finite\)",
         b'{"dcaf_session": 1, "session": {"x": NaN}}'),
    Case("infinity", TURN, FILE_ERR + r": .*Infinity is not valid JSON",
         b'{"session": [-Infinity]}'),
    Case("invalid-utf8", TURN,
         FILE_ERR + r": line 2 column 9: not UTF-8 text \(byte 0xff\); save it as UTF-8",
         b'{\n  "a": "\xff\xfe"}'),
    Case("latin-1", TURN, FILE_ERR + r": line 1 column 6: not UTF-8 text \(byte 0xe9\)",
         b'{"caf\xe9": 1}'),
    Case("nested-100k-lists", TURN, FILE_ERR + r" is nested too deeply to read", deep("[", "]")),
    Case("nested-100k-objects", TURN, FILE_ERR + r" is nested too deeply to read",
         deep('{"a": ', "}")),
    # -- the session file: JSON, but not a session file -----------------------------------
    Case("top-level-list", TURN,
         FILE_ERR + r" holds a list, but a session file is a JSON object; fix it in an editor, "
         r"or move it aside to start a new session$", b"[1, 2]"),
    Case("top-level-string", TURN, FILE_ERR + r" holds a string, but", b'"cart"'),
    Case("top-level-number", TURN, FILE_ERR + r" holds a number, but", b"42"),
    Case("top-level-null", TURN, FILE_ERR + r" holds null, but", b"null"),
    Case("top-level-bool", TURN, FILE_ERR + r" holds true/false, but", b"true"),
    Case("future-version", TURN,
         FILE_ERR + r" was written by a newer dcaf \(format 2; this one reads format 1\); "
         r"upgrade dcaf-cli to open it$", b'{"dcaf_session": 2}'),
    Case("version-zero", TURN, FILE_ERR + r': "dcaf_session": 0 is not a known format number',
         b'{"dcaf_session": 0}'),
    Case("version-as-text", TURN,
         FILE_ERR + r': "dcaf_session" must be a format number, not a string',
         b'{"dcaf_session": "1"}'),
    Case("session-is-a-list", TURN, FILE_ERR + r': "session" must be an object, not a list',
         b'{"dcaf_session": 1, "session": []}'),
    Case("messages-is-an-object", TURN,
         FILE_ERR + r': "messages" must be a list, not an object',
         b'{"dcaf_session": 1, "messages": {}}'),
    Case("turn-is-a-number", TURN, FILE_ERR + r': "turns"\[0\] must be an object, not a number',
         b'{"dcaf_session": 1, "turns": [1]}'),
    Case("negative-revision", TURN, FILE_ERR + r': "meta"."revision" must be a whole number',
         b'{"dcaf_session": 1, "meta": {"revision": -1}}'),
    Case("always-approve-not-a-list", TURN,
         FILE_ERR + r': "meta"."always_approve" must be a list of tool names',
         b'{"dcaf_session": 1, "meta": {"always_approve": "all"}}'),
    # -- the session file: where it is and who has it --------------------------------------
    Case("over-the-size-limit", TURN,
         FILE_ERR + r" is [\d.]+ MB, over the 0.001 MB limit for session files; set "
         r"DCAF_MAX_FILE_MB to a larger number", BIG_DOC, env={"DCAF_MAX_FILE_MB": "0.001"}),
    Case("bad-size-limit", TURN,
         r"^dcaf: error: DCAF_MAX_FILE_MB='lots' is not a positive number of megabytes$",
         env={"DCAF_MAX_FILE_MB": "lots"}),
    Case("a-fifo", ("run", "shop", "-s", "{dir}/pipe.json", "-m", "x"),
         r"^dcaf: error: {dir}/pipe.json is not a regular file", None, setup=fifo),
    Case("locked", TURN,
         r"^dcaf: error: {file} is open in another dcaf \(pid \d+, `.*`\); close it or use "
         r"another file$", status=ExitStatus.LOCKED),
    Case("read-only-folder", TURN,
         r"^dcaf: error: cannot save {file}: Permission denied; the file was not changed",
         status=ExitStatus.ERROR, setup=read_only_folder),
    Case("read-only-folder-new-file", TURN,
         r"^dcaf: error: cannot create {file}: dcaf cannot write in the folder {dir} "
         r"\(read-only\); nothing was changed — pick another folder$",
         None, setup=read_only_folder),
    Case("disk-full", TURN,
         r"^dcaf: error: cannot save {file}: No space left on device; the file was not "
         r"changed — free some space", status=ExitStatus.ERROR, setup=disk_full),
    # -- the agent -------------------------------------------------------------------------
    Case("missing-agent", ("run", "no_such_agent_xyz", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent 'no_such_agent_xyz': no module named 'no_such_agent_xyz'"),
    Case("missing-agent-file", ("run", "{dir}/none.py", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent '{dir}/none.py': no such file {dir}/none.py$"),
    Case("agent-syntax-error", ("run", "{dir}/broken.py", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent '{dir}/broken.py' has a syntax error at {dir}/broken.py:2: ",
         setup=write("broken.py", "import os\ndef (:\n")),
    Case("agent-fails-to-import", ("run", "{dir}/boom.py", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent '{dir}/boom.py' failed to import: RuntimeError: no config here$",
         setup=write("boom.py", "raise RuntimeError('no config here')\n")),
    Case("agent-defines-nothing", ("run", "{dir}/empty.py", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent '{dir}/empty.py' defines no agent and no tools",
         setup=write("empty.py", "X = 1\n")),
    Case("agent-attribute-missing", ("run", "shop:nope", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent 'shop:nope': dcaf_cli.examples.shop has no 'nope'$"),
    Case("agent-is-not-an-agent", ("run", "{dir}/num.py:X", "-s", "{file}", "-m", "x"),
         r"^dcaf: error: agent '{dir}/num.py:X': X is a int, not an agent",
         setup=write("num.py", "X = 42\n")),
    # -- the model -------------------------------------------------------------------------
    Case("unknown-provider", (*TURN, "--model", "bogus:x"),
         r"^dcaf: error: unknown model 'bogus:x' \(use one of: offline, script:…"),
    Case("missing-provider-sdk", (*TURN, "--model", "openai:gpt-4o-mini"),
         r"^dcaf: error: the openai provider needs the 'openai' package \(pip install "
         r"'dcaf-cli\[openai\]'\)$", setup=no_openai_sdk),
    Case("script-file-missing", (*TURN, "--model", "script:{dir}/none.json"),
         r"^dcaf: error: cannot read model script {dir}/none.json: No such file or directory$"),
    Case("script-not-json", (*TURN, "--model", "script:{dir}/model.json"),
         r"^dcaf: error: model script {dir}/model.json is not valid JSON: ",
         setup=write("model.json", "{replies")),
    Case("script-wrong-shape", (*TURN, "--model", "script:{dir}/model.json"),
         r"^dcaf: error: model script {dir}/model.json: replies: ", setup=script({"replies": 3})),
    Case("script-without-file", (*TURN, "--model", "script:"),
         r"^dcaf: error: script needs a file \(--model script:path/to/replies.json\)$"),
    Case("failing-model", (*TURN, "--model", "script:{dir}/model.json"),
         r"^dcaf: error: the model is down \(the turn was rolled back\)$",
         status=ExitStatus.ERROR, setup=script([{"error": "the model is down"}])),
    Case("model-out-of-replies", (*TURN, "--model", "script:{dir}/model.json"),
         r"^dcaf: error: model script {dir}/model.json has no reply left \(it has 0\)",
         status=ExitStatus.ERROR, setup=script([])),
    # -- what the user typed ---------------------------------------------------------------
    Case("bad-tool-arguments", (*SHOP, "-m", "/add_to_cart widget two"),
         r"^dcaf: error: add_to_cart: argument 'quantity': Input should be a valid integer, "
         r"unable to parse string as an integer \(got 'two'\) \(the turn was rolled back\)$"),
    Case("unknown-argument", (*SHOP, "-m", "/add_to_cart item=a quantity=1 colour=red"),
         r"^dcaf: error: /add_to_cart takes no more arguments, got 'colour=red'"),
    Case("too-many-arguments", (*SHOP, "-m", "/view_cart extra"),
         r"^dcaf: error: /view_cart takes no more arguments, got 'extra'"),
    Case("unknown-tool", (*SHOP, "-m", "/no_such_tool x=1"),
         r"^dcaf: error: /no_such_tool is not a tool of shop \(its tools: /add_to_cart, "),
    Case("unclosed-quote", (*SHOP, "-m", '/add_to_cart "widget 2'),
         r"^dcaf: error: /add_to_cart: No closing quotation \(close the quote\)"),
]
# fmt: on


def materialise(case: Case, folder: Path) -> tuple[list[str], re.Pattern[str]]:
    file = folder / "s.json"
    fill = {"file": str(file), "dir": str(folder)}
    args = [a.format(**fill) for a in case.args]
    pattern = case.error.replace("{file}", re.escape(str(file))).replace(
        "{dir}", re.escape(str(folder))
    )
    return args, re.compile(pattern)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def assert_refused(result: Result, case: Case, pattern: re.Pattern[str]) -> None:
    assert result.status == case.status, (result.status, result.err, result.out)
    assert result.err.endswith("\n")
    assert result.err.count("\n") == 1, f"not one line: {result.err!r}"
    assert pattern.search(result.err.rstrip("\n")), result.err
    assert "Traceback" not in result.out + result.err
    assert "\x1b" not in result.err


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.id)
def test_bad_input_is_one_line_an_exit_code_and_no_change(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    if case.content is not None:
        (folder / "s.json").write_bytes(case.content)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    if case.setup is not None:
        case.setup(folder, monkeypatch)
    args, pattern = materialise(case, folder)
    before = snapshot(folder)

    if case.id == "locked":
        with SessionStore(folder / "s.json") as holder:
            holder.open()
            before = snapshot(folder)  # with the holder's lock file
            result = run_dcaf(capsys, monkeypatch, *args)
            after = snapshot(folder)
    else:
        result = run_dcaf(capsys, monkeypatch, *args)
        monkeypatch.undo()  # permissions, env and patched functions back before looking
        folder.chmod(0o755)
        after = snapshot(folder)
    assert_refused(result, case, pattern)
    assert after == before  # byte for byte; no temp or lock file left either


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30
    assert len({c.id for c in CORPUS}) == len(CORPUS)


SAMPLE = ["corrupt-json", "nested-100k-lists", "invalid-utf8", "agent-syntax-error",
          "failing-model", "unknown-provider", "bad-tool-arguments", "future-version"]  # fmt: skip


@pytest.mark.parametrize("case", [c for c in CORPUS if c.id in SAMPLE], ids=lambda c: c.id)
def test_corpus_through_the_installed_program(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    if case.content is not None:
        (folder / "s.json").write_bytes(case.content)
    if case.setup is not None:
        case.setup(folder, pytest.MonkeyPatch())
    args, pattern = materialise(case, folder)
    before = snapshot(folder)
    p = subprocess.run(
        [str(DCAF), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **case.env},
    )
    assert_refused(Result(p.returncode, p.stdout, p.stderr), case, pattern)
    assert snapshot(folder) == before


def test_a_real_200_mb_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(200_000_000)  # sparse: costs no disk and no time to make
    before = big.stat()
    result = run_dcaf(capsys, monkeypatch, "run", "shop", "-s", big, "-m", "add 1 widget")
    assert result.status == ExitStatus.BAD_INPUT
    assert result.err == (
        f"dcaf: error: {big} is 200.0 MB, over the 100 MB limit for session files; "
        "set DCAF_MAX_FILE_MB to a larger number of megabytes to open it\n"
    )
    after = big.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_usage_errors_exit_2_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path / "work"
    tmp_path.mkdir()
    for args in (
        ["run", "--approve", "maybe", "-m", "x"],
        ["run", "--no-such-option"],
    ):
        result = run_dcaf(capsys, monkeypatch, *args)
        assert result.status == ExitStatus.BAD_INPUT, args
        assert result.err.startswith("dcaf: error: "), result.err  # one line, as every error
        assert result.err.count("\n") == 1, result.err
        assert "--help`)" in result.err
        assert "Value error" not in result.err
        assert "Traceback" not in result.err
    # A folder as the session file: dcaf's own one line, not Typer's usage block.
    result = run_dcaf(capsys, monkeypatch, "run", "shop", "--session", str(tmp_path), "-m", "x")
    assert result.status == ExitStatus.BAD_INPUT
    assert (
        result.err
        == f"dcaf: error: {tmp_path} is not a regular file; give the path of a .json file\n"
    )
    assert list(tmp_path.iterdir()) == []


# -- a file changed behind our back ------------------------------------------------------

MEDDLER = """
import os
from pathlib import Path
from dcaf_cli import Session, tool

@tool(description="Edit the session file as another program would")
def meddle(session: Session) -> str:
    session.set("mine", 1)
    Path(os.environ["MEDDLE_FILE"]).write_text('{"dcaf_session": 1, "session": {"theirs": 2}}')
    return "meddled"
"""


def test_a_file_changed_during_a_turn_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "s.json"
    file.write_bytes(OK_DOC)
    (tmp_path / "meddler.py").write_text(MEDDLER)
    monkeypatch.setenv("MEDDLE_FILE", str(file))
    result = run_dcaf(capsys, monkeypatch, "run", tmp_path / "meddler.py", "-s", file,
                      "-m", "/meddle", "-m", "/meddle")  # fmt: skip
    assert result.status == ExitStatus.LOCKED
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"dcaf: error: {file} changed on disk since dcaf read it")
    assert "nothing was overwritten" in result.err
    assert read_session_file(file).session == {"theirs": 2}  # their change, not ours


# -- not refused, but shown safely --------------------------------------------------------


def test_markup_and_escape_codes_from_a_tool_are_shown_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "s.json"
    result = run_dcaf(capsys, monkeypatch, "run", f"{AGENTS}:markup", "-s", file, "-m", "/shout")
    assert result.status == 0
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
    assert "\x9b" not in result.out
    assert "[red]boom[/red] [bold]x[/] \\x1b[31mred\\x1b[0m \\x1b]0;title\\x07 \\x9b2J" in (
        result.out
    )
    assert '+ banner "[red]boom[/red] [bold]x[/] \\u001b[31mred' in result.out
    assert read_session_file(file).session["banner"].startswith("[red]boom[/red] ")

    as_json = run_dcaf(capsys, monkeypatch, "run", f"{AGENTS}:markup", "-m", "/shout", "--json")
    assert "\x1b" not in as_json.out  # JSON escapes it
    assert as_json.json_lines[0]["reply"].startswith("[red]boom[/red] [bold]x[/] \x1b[31m")


def test_a_tool_storing_a_secret_warns_and_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "s.json"
    masked = run_dcaf(capsys, monkeypatch, "run", f"{AGENTS}:secrets", "-s", file,
                      "-m", "/store_key", "--json")  # fmt: skip
    assert masked.status == 0
    assert masked.err == (
        "warning: this turn stored what looks like a secret at api_key; sessions travel in "
        "protocol messages and files — store a reference instead\n"
    )
    assert masked.json_lines[0]["diff"] == [
        {"op": "add", "path": "/api_key", "value": "‹redacted›"}
    ]
    assert "sk-live" not in masked.out
    assert read_session_file(file).session["api_key"] == "sk-live-0123456789abcdefghijklmnop"

    shown = run_dcaf(capsys, monkeypatch, "run", f"{AGENTS}:secrets", "-m", "/store_key",
                     "--json", "--reveal")  # fmt: skip
    assert shown.json_lines[0]["diff"][0]["value"] == "sk-live-0123456789abcdefghijklmnop"


def test_a_failing_tool_is_shown_and_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "s.json"
    result = run_dcaf(capsys, monkeypatch, "run", f"{AGENTS}:failing", "-s", file, "-m", "/explode")
    assert result.status == 0  # the error is the tool's result, as a model would read it
    assert "✗ explode()" in result.out
    assert "RuntimeError: the tool blew up" in result.out
    assert "Traceback" not in result.out + result.err
    assert read_session_file(file).session == {}  # "half" was rolled back


def test_a_model_calling_an_unknown_tool_or_with_bad_arguments_gets_the_error_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.json"
    model.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "no_such_tool", "arguments": {"x": 1}}]},
                {
                    "tool_calls": [
                        {"name": "add_to_cart", "arguments": {"item": "w", "quantity": "lots"}}
                    ]
                },
                {"text": "sorry, I could not"},
            ]
        )
    )
    file = tmp_path / "s.json"
    result = run_dcaf(capsys, monkeypatch, "run", "shop", "-s", file, "--model",
                      f"script:{model}", "-m", "do it", "--json")  # fmt: skip
    assert result.status == 0
    line = result.json_lines[0]
    assert [c["error"] for c in line["tool_calls"]] == [
        "there is no tool named 'no_such_tool'",
        "add_to_cart: argument 'quantity': Input should be a valid integer, unable to parse "
        "string as an integer (got 'lots')",
    ]
    assert line["reply"] == "sorry, I could not"
    assert read_session_file(file).session == {}
