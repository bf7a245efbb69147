"""The scripted chat (`repl.scripted`) driven directly: a conversation, lines and two
buffer consoles; what reaches stdout and stderr, the exit status, the file."""

from __future__ import annotations

import json
from pathlib import Path

from repl_helpers import buffer_console, conversation_for

from dcaf_cli.errors import ExitStatus
from dcaf_cli.repl.scripted import ScriptOptions, run_script
from dcaf_cli.store.filestore import read_session_file


def run(
    path: Path, lines: list[str], options: ScriptOptions, agent: str = "shop"
) -> tuple[ExitStatus, str, str]:
    conversation = conversation_for(agent, path)
    out, out_text = buffer_console()
    err, err_text = buffer_console()
    try:
        status = run_script(conversation, lines, options, out, err)
    finally:
        conversation.close()
    return status, out_text.getvalue(), err_text.getvalue()


def test_json_lines_one_per_turn(tmp_path: Path) -> None:
    path = tmp_path / "cart.json"
    lines = ["/add_to_cart Widget 2", "/view_cart"]
    status, out, err = run(path, lines, ScriptOptions(json_output=True))
    assert (status, err) == (ExitStatus.OK, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["revision"] for r in records] == [1, 2]
    assert records[0]["diff"][0]["path"] == "/cart"
    assert read_session_file(path).session["cart"][0]["quantity"] == 2


def test_an_unknown_tool_stops_the_script_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "cart.json"
    status, out, err = run(path, ["/fly_to_moon", "/add_to_cart Widget 2"], ScriptOptions())
    assert status == ExitStatus.BAD_INPUT
    assert err.startswith("dcaf: error: /fly_to_moon is not a tool of shop")
    assert out == ""
    assert not path.exists()


def test_a_repl_command_names_the_session_command_to_use(tmp_path: Path) -> None:
    path = tmp_path / "cart.json"
    status, _, err = run(path, ["/get cart"], ScriptOptions())
    assert status == ExitStatus.BAD_INPUT
    assert f"`dcaf session get {path} ...`" in " ".join(err.split())


def test_calls_needing_approval_follow_the_approve_option(tmp_path: Path) -> None:
    lines = ["/start_deployment staging", "/execute_deployment"]
    no, yes = ScriptOptions(json_output=True), ScriptOptions(json_output=True, approve=True)
    status, out, err = run(tmp_path / "no.json", lines, no, "deploy")
    assert status == ExitStatus.OK
    assert "execute_deployment: rejected: not approved (run with --approve yes to allow)" in err
    assert json.loads(out.splitlines()[-1])["tool_calls"][0]["error"]
    status, _, err = run(tmp_path / "yes.json", lines, yes, "deploy")
    assert status == ExitStatus.OK
    assert "execute_deployment: approved" in err


def test_without_json_the_turn_view_tells_the_verdict_once(tmp_path: Path) -> None:
    lines = ["/start_deployment staging", "/execute_deployment"]
    status, out, err = run(tmp_path / "no.json", lines, ScriptOptions(), "deploy")
    assert (status, err) == (ExitStatus.OK, "")
    assert "not run" in out
