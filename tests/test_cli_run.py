"""`dcaf run` without a terminal: -m, piped stdin, --json, --approve, exit codes.

In-process through `run_cli` (the real entry point, minus `sys.exit`) with capsys, and a
few through the installed `.venv/bin/dcaf`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from chat_helpers import AGENTS, DCAF, Result, run_dcaf

from dcaf_cli.errors import ExitStatus
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.records import turn_contents


@pytest.fixture
def dcaf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`dcaf(*args, stdin=...)` in-process: exit status, stdout, stderr."""

    def run(*args: str | Path, stdin: str = "") -> Result:
        return run_dcaf(capsys, monkeypatch, *args, stdin=stdin)

    return run


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "s.json"


def test_messages_run_one_turn_each(dcaf: Any, path: Path) -> None:
    r = dcaf("run", "shop", "-s", path, "-m", "add 2 widgets", "-m", "add 1 gadget")
    assert r.status == 0
    assert r.err == ""
    assert f"saved {path} (revision 1)" in r.text
    assert f"saved {path} (revision 2)" in r.text
    assert '▸ add_to_cart(quantity=2, item="widget")' in r.out
    doc = read_session_file(path)
    assert [t["input"] for t in doc.turns] == ["add 2 widgets", "add 1 gadget"]
    assert doc.meta["agent"] == "shop"


def test_piped_stdin_is_one_turn_per_line(dcaf: Any, path: Path) -> None:
    r = dcaf("run", "shop", "--session", path, stdin="add 2 widgets\n\n   \n/view_cart\n")
    assert r.status == 0
    doc = read_session_file(path)
    assert [t["input"] for t in doc.turns] == ["add 2 widgets", "/view_cart"]  # blanks skipped
    assert "Total: 2 items" in r.out


def test_json_is_one_object_per_turn_with_an_rfc6902_diff(dcaf: Any, path: Path) -> None:
    lines = "add 2 widgets\nadd 3 gadgets\n/view_cart\ncheckout\n"
    r = dcaf("run", "shop", "-s", path, "--json", stdin=lines)
    assert r.status == 0
    assert r.err == ""
    objects = r.json_lines
    assert [o["input"] for o in objects] == lines.split("\n")[:-1]
    assert [o["revision"] for o in objects] == [1, 2, 3, 4]
    assert [o["error"] for o in objects] == [None] * 4
    for o in objects:
        assert set(o) >= {"input", "reply", "tool_calls", "diff", "revision", "error"}
    assert objects[0]["tool_calls"][0]["name"] == "add_to_cart"
    assert objects[0]["tool_calls"][0]["input"] == {"quantity": 2, "item": "widget"}
    assert objects[2]["reply"].startswith("Your cart contains:")
    assert objects[2]["diff"] == []
    state: dict[str, Any] = {}
    for o in objects[:2]:
        state = jsonpatch.apply_patch(state, o["diff"])
    assert state == {"cart": [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 3}]}
    assert jsonpatch.apply_patch(state, objects[3]["diff"]) == read_session_file(path).session
    assert objects[3]["diff"] == [{"op": "remove", "path": "/cart"}]


def test_json_reports_a_failed_turn_and_stops(dcaf: Any, path: Path, tmp_path: Path) -> None:
    script = tmp_path / "model.json"
    script.write_text(json.dumps([{"text": "fine"}, {"error": "the model is down"}]))
    r = dcaf("run", "shop", "-s", path, "--json", "--model", f"script:{script}",
             "-m", "one", "-m", "two", "-m", "three")  # fmt: skip
    assert r.status == ExitStatus.ERROR
    objects = r.json_lines
    assert [o["error"] for o in objects] == [None, "the model is down"]
    assert objects[1]["revision"] is None
    assert r.err == "dcaf: error: the model is down\n"
    assert read_session_file(path).revision == 1


DEPLOY = ["-m", "start a deployment to staging", "-m", "/add_service api 1.4.2"]


def test_approve_no_is_the_default_and_says_so(dcaf: Any, path: Path) -> None:
    r = dcaf("run", "deploy", "-s", path, *DEPLOY, "-m", "execute the deployment")
    assert r.status == 0
    assert r.err == ""  # the view says it, once
    assert "⊘ execute_deployment()  not run" in r.out
    assert "↳ rejected: not approved (run with --approve yes to allow)" in r.text
    assert "failed" not in r.text  # a call the user did not run is no failure
    assert "execute_deployment was not run: not approved" in r.out  # the offline reply
    r = dcaf("run", "deploy", "-s", path, "-m", "execute the deployment", "--json")
    assert r.err == (
        "execute_deployment: rejected: not approved (run with --approve yes to allow)\n"
    )
    assert "deployment" in read_session_file(path).session
    call = turn_contents(read_session_file(path))[-1].tool_calls[0]
    assert call["error"] == "rejected: not approved (run with --approve yes to allow)"


def test_approve_yes_runs_it(dcaf: Any, path: Path) -> None:
    r = dcaf("run", "deploy", "-s", path, *DEPLOY, "-m", "execute the deployment",
             "--approve", "yes", "--json")  # fmt: skip
    assert r.status == 0
    assert r.err == "execute_deployment: approved\n"
    assert "✅ Deployed api:1.4.2 to staging" in r.json_lines[-1]["reply"]
    assert read_session_file(path).session == {}


def test_approve_rejects_an_unknown_answer(dcaf: Any, path: Path) -> None:
    r = dcaf("run", "deploy", "-s", path, "-m", "x", "--approve", "maybe")
    assert r.status == ExitStatus.BAD_INPUT
    assert "maybe" in r.err
    assert not path.exists()


def test_missing_arguments_without_a_terminal_are_refused(dcaf: Any, path: Path) -> None:
    r = dcaf("run", "shop", "-s", path, "-m", "add to cart", "--json")
    assert r.status == 0
    assert r.err == (
        "add_to_cart: rejected: missing required argument(s) item, quantity, "
        "and no terminal to ask\n"
    )
    assert read_session_file(path).session == {}


def test_the_agent_recorded_in_the_file_is_the_default(dcaf: Any, path: Path) -> None:
    dcaf("run", "deploy", "-s", path, "-m", "start a deployment to staging")
    r = dcaf("run", "-s", path, "-m", "/add_service api 2")
    assert r.status == 0
    assert read_session_file(path).session["deployment"]["services"] == [
        {"name": "api", "version": "2"}
    ]


def test_without_agent_or_file_it_is_notes_in_memory_with_no_save(
    dcaf: Any, sessions_dir: Path
) -> None:
    r = dcaf("run", "--no-save", "-m", "/remember color blue", "--json")
    assert r.status == 0
    line = r.json_lines[0]
    assert line["reply"] == "Remembered color=blue"
    assert line["revision"] is None
    assert not sessions_dir.exists()


def test_with_no_save_plain_output_says_how_to_keep_it(dcaf: Any) -> None:
    r = dcaf("run", "shop", "--no-save", "-m", "add 1 widget")
    assert "not saved: no session file (--session FILE keeps it)" in r.out


def test_dcaf_model_env_picks_the_model(
    dcaf: Any, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "model.json"
    script.write_text(json.dumps([{"text": "**scripted** hello"}]))
    monkeypatch.setenv("DCAF_MODEL", f"script:{script}")
    r = dcaf("run", "shop", "-s", path, "-m", "hi", "--json")
    assert r.json_lines[0]["reply"] == "**scripted** hello"
    assert read_session_file(path).meta["model"] == f"script:{script}"


def test_reveal_shows_secrets_the_default_masks(dcaf: Any, path: Path) -> None:
    masked = dcaf("run", f"{AGENTS}:secrets", "-s", path, "-m", "/store_key")
    assert "sk-live-0123456789" not in masked.out
    assert '+ api_key "‹redacted›"' in masked.out
    assert "warning: this turn stored what looks like a secret at api_key" in masked.text
    again = path.with_name("again.json")
    shown = dcaf("run", f"{AGENTS}:secrets", "-s", again, "-m", "/store_key", "--reveal")
    assert "sk-live-0123456789abcdefghijklmnop" in shown.out


# -- exit codes -------------------------------------------------------------------------


def test_exit_codes_are_documented_in_help(dcaf: Any) -> None:
    for args in (["--help"], ["run", "--help"]):
        text = " ".join(dcaf(*args).out.split())
        assert "Exit codes:" in text
        for status in ExitStatus:
            assert f"{status.value} " in text.split("Exit codes:")[1], status


def test_exit_code_ok(dcaf: Any, path: Path) -> None:
    assert dcaf("run", "shop", "-s", path, "-m", "/view_cart").status == ExitStatus.OK


def test_exit_code_error_for_a_failed_turn(dcaf: Any, path: Path, tmp_path: Path) -> None:
    script = tmp_path / "model.json"
    script.write_text("[]")
    r = dcaf("run", "shop", "-s", path, "--model", f"script:{script}", "-m", "hi")
    assert r.status == ExitStatus.ERROR
    assert r.err.startswith("dcaf: error: model script")
    assert "has no reply left" in r.err


def test_exit_code_bad_input_for_a_corrupt_file(dcaf: Any, path: Path) -> None:
    path.write_text("{nope")
    r = dcaf("run", "shop", "-s", path, "-m", "hi")
    assert r.status == ExitStatus.BAD_INPUT
    assert r.err.startswith(f"dcaf: error: {path}: line 1 column 2: not valid JSON")


def test_exit_code_locked_names_the_holder(dcaf: Any, path: Path) -> None:
    with SessionStore(path) as holder:
        holder.open()
        r = dcaf("run", "shop", "-s", path, "-m", "add 1 widget")
    assert r.status == ExitStatus.LOCKED
    assert r.err.count("\n") == 1
    assert f"is open in another dcaf (pid {os.getpid()}" in r.err
    assert not path.exists()


def test_exit_code_interrupted(dcaf: Any, path: Path) -> None:
    dcaf("run", f"{AGENTS}:slow", "-s", path, "-m", "/quick_add a")
    before = path.read_bytes()
    r = dcaf("run", f"{AGENTS}:slow", "-s", path, "-m", "/interrupted_add b", "-m", "/quick_add c")
    assert r.status == ExitStatus.INTERRUPTED
    assert r.err == "dcaf: interrupted: the turn was cancelled; nothing changed, nothing saved\n"
    assert path.read_bytes() == before


# -- the installed program --------------------------------------------------------------


def dcaf_process(*args: str | Path, stdin: str = "", cwd: Path | None = None) -> Any:
    return subprocess.run(
        [str(DCAF), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        check=False,
    )


def test_installed_dcaf_pipes_json(path: Path) -> None:
    p = dcaf_process("run", "shop", "-s", path, "--json", stdin="add 2 widgets\n/view_cart\n")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [line["revision"] for line in lines] == [1, 2]
    assert read_session_file(path).revision == 2
    assert path.stat().st_mode & 0o777 == 0o600


def test_installed_dcaf_exit_codes(path: Path, tmp_path: Path) -> None:
    ok = dcaf_process("run", "shop", "-s", path, "-m", "add 1 widget")
    assert ok.returncode == ExitStatus.OK
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    refused = dcaf_process("run", "shop", "-s", bad, "-m", "add 1 widget")
    assert refused.returncode == ExitStatus.BAD_INPUT
    assert refused.stderr == (
        f"dcaf: error: {bad} holds a list, but a session file is a JSON object; "
        "fix it in an editor, or move it aside to start a new session\n"
    )
    assert bad.read_text() == "[1, 2]"


def test_python_m_dcaf_cli_works(path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "dcaf_cli", "run", "shop", "-s", str(path), "-m", "/view_cart"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert "Your cart is empty." in p.stdout


def test_a_model_chosen_for_one_run_does_not_stick_to_the_agent(
    dcaf: Any, path: Path, tmp_path: Path
) -> None:
    script = tmp_path / "model.json"
    script.write_text(json.dumps([{"text": "scripted"}]))
    assert dcaf("run", "shop", "--model", f"script:{script}", "-m", "hi").status == 0
    r = dcaf("run", "shop", "-s", path, "-m", "/view_cart", "--json")  # same process
    assert r.status == 0
    assert r.json_lines[0]["reply"] == "Your cart is empty."
    assert read_session_file(path).meta["model"] == "offline"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "counter", "--model", "offline", "-m", "hi"),
         "agent 'counter' is a custom agent function, which uses no model; drop --model"),
        (("run", "shop", "--url", "http://127.0.0.1:9", "-m", "hi"),
         "--url chats with the server's own agent and model; drop AGENT"),
        (("run", "--url", "http://127.0.0.1:9", "--region", "eu-west-1", "-m", "hi"),
         "drop --region"),
        (("run", "shop", "--model", "bedrock:some-model", "--api-key", "k", "-m", "hi"),
         "bedrock: models use AWS credentials, not --api-key"),
    ],
    ids=["model-for-a-function", "agent-with-url", "region-with-url", "api-key-for-bedrock"],
)  # fmt: skip
def test_options_that_would_be_ignored_are_refused(
    dcaf: Any, args: tuple[str, ...], message: str
) -> None:
    r = dcaf(*args)
    assert r.status == ExitStatus.BAD_INPUT
    assert message in r.err
    assert r.err.count("\n") == 1


def test_dcaf_model_env_does_not_trouble_a_function_agent(
    dcaf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_MODEL", "offline")
    r = dcaf("run", "counter", "-m", "hi")
    assert r.status == ExitStatus.OK
    assert "This is call #1" in r.out


def test_a_bare_session_file_is_noted_in_scripted_mode(dcaf: Any, tmp_path: Path) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text('{"cart": []}')
    r = dcaf("run", "shop", "-s", bare, "-m", "/view_cart")
    assert r.status == ExitStatus.OK
    assert "dcaf: note: " in r.err
    assert "bare session data" in r.err
    assert read_session_file(bare).meta["revision"] == 1


@pytest.mark.parametrize("where", ["root", "run"])
def test_debug_shows_the_traceback_of_a_failed_turn(
    dcaf: Any, path: Path, tmp_path: Path, where: str
) -> None:
    script = tmp_path / "model.json"
    script.write_text("[]")
    turn = ("run", "shop", "-s", path, "--model", f"script:{script}", "-m", "hi")
    args = ("--debug", *turn) if where == "root" else (*turn, "--debug")
    r = dcaf(*args)
    assert r.status == ExitStatus.ERROR
    assert "Traceback" in r.out + r.err
    assert "ModelError" in r.out + r.err
    plain = dcaf(*turn)
    assert "Traceback" not in plain.out + plain.err


def test_a_repl_command_in_a_script_names_the_command_to_use(dcaf: Any, path: Path) -> None:
    before = path.read_bytes() if path.exists() else None
    r = dcaf("run", "shop", "-s", path, "-m", "/undo")
    assert r.status == ExitStatus.BAD_INPUT
    assert f"in a script use `dcaf session undo {path} ...`" in r.err
    assert (path.read_bytes() if path.exists() else None) == before
