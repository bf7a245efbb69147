"""Standing approvals ("always"): kept in the file, visible, revocable, and never stronger
than an explicit `--approve no`; over `--url`, only the answers a server accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run_dcaf
from fakes.chat_client import isolate
from fakes.live_server import serving
from repl_helpers import CTRL_C, conversation_for, run_repl

from dcaf_cli.cli.chat import ChatSettings, open_conversation
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.server import create_app
from dcaf_cli.store.filestore import read_session_file

SETUP = ["start a deployment to staging", "/add_service api 1.4.2"]
EXECUTE = "execute the deployment"
DEPLOYED = "Deployed api:1.4.2 to staging"


@pytest.fixture
def dcaf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(*args: str | Path, stdin: str = "") -> Any:
        return run_dcaf(capsys, monkeypatch, *args, stdin=stdin)

    return run


def repl(path: Path | None, entries: list[Any], agent: str = "deploy") -> Any:
    conversation = conversation_for(agent, path)
    try:
        return run_repl(conversation, entries)
    finally:
        conversation.close()


def test_an_answer_is_a_letter_or_the_start_of_its_word(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    run = repl(path, [*SETUP, EXECUTE, "actually, no", "yikes", "NO", "not now"])
    assert run.asked[:3] == ["run it? [y]es [n]o [a]lways [e]dit: "] * 3
    assert run.output.count("answer y, n, a or e (Ctrl-C cancels the turn)") == 2
    assert "rejected: not now" in run.output
    assert DEPLOYED not in run.output
    assert "always_approve" not in read_session_file(path).meta


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    """A deploy session whose turn 3 answered "always" for execute_deployment."""
    path = tmp_path / "d.json"
    run = repl(path, [*SETUP, EXECUTE, "a"])
    assert DEPLOYED in run.output
    assert read_session_file(path).meta["always_approve"] == ["execute_deployment"]
    return path


def test_explicit_approve_no_wins_over_a_standing_approval(dcaf: Any, granted: Path) -> None:
    r = dcaf("run", "deploy", "-s", granted, "-m", SETUP[0], "-m", SETUP[1], "-m", EXECUTE,
             "--approve", "no")  # fmt: skip
    assert r.status == 0
    assert DEPLOYED not in r.out
    assert "⊘ execute_deployment()  not run" in r.out
    assert read_session_file(granted).session["deployment"]["services"]  # nothing deployed


def test_without_approve_a_standing_approval_runs_in_scripts(dcaf: Any, granted: Path) -> None:
    r = dcaf("run", "deploy", "-s", granted, "-m", SETUP[0], "-m", SETUP[1], "-m", EXECUTE)
    assert r.status == 0
    assert DEPLOYED in r.out
    assert "deployment" not in read_session_file(granted).session


def test_session_show_lists_standing_approvals(dcaf: Any, granted: Path) -> None:
    r = dcaf("session", "show", granted)
    assert r.status == 0
    assert "approved always" in r.out
    assert "execute_deployment" in r.out


def test_session_approvals_lists_and_revokes(dcaf: Any, granted: Path) -> None:
    assert dcaf("session", "approvals", granted).out == "execute_deployment\n"
    assert dcaf("session", "approvals", granted, "--json").out == '[\n  "execute_deployment"\n]\n'
    r = dcaf("session", "approvals", granted, "--revoke", "execute_deployment")
    assert r.status == 0
    assert "revoked: execute_deployment" in r.out
    assert read_session_file(granted).meta["always_approve"] == []
    assert "no standing approvals" in dcaf("session", "approvals", granted).out


def test_session_approvals_refuses_an_unknown_name(dcaf: Any, granted: Path) -> None:
    before = granted.read_bytes()
    r = dcaf("session", "approvals", granted, "--revoke", "deploy_everything")
    assert r.status == 2
    assert r.err.startswith("dcaf: error: deploy_everything has no standing approval")
    assert "execute_deployment" in r.err
    assert granted.read_bytes() == before


def test_revoke_all(dcaf: Any, granted: Path) -> None:
    r = dcaf("session", "approvals", granted, "--revoke-all")
    assert "revoked: execute_deployment" in r.out
    assert read_session_file(granted).meta["always_approve"] == []


def test_repl_approvals_lists_and_revokes(granted: Path) -> None:
    run = repl(granted, ["/approvals", "/approvals revoke execute_deployment", "/approvals",
                         *SETUP, EXECUTE, "n", ""])  # fmt: skip
    out = run.output
    assert "run without asking: execute_deployment" in out
    assert "revoked: execute_deployment (asks again)" in out
    assert "no standing approvals" in out
    assert run.asked[0].startswith("run it?")  # it asks again
    assert read_session_file(granted).meta["always_approve"] == []


def test_repl_approvals_revoke_of_an_unknown_tool_is_one_line(granted: Path) -> None:
    run = repl(granted, ["/approvals revoke nope"])
    assert "error: nope has no standing approval (standing approvals: execute_deployment)" in (
        " ".join(run.output.split())
    )


def test_undoing_the_granting_turn_revokes(granted: Path) -> None:
    run = repl(granted, ["/undo", "/approvals"])
    assert "no standing approvals" in run.output
    assert read_session_file(granted).meta["always_approve"] == []


def test_dcaf_session_undo_revokes_too(dcaf: Any, granted: Path) -> None:
    assert dcaf("session", "undo", granted).status == 0
    assert read_session_file(granted).meta["always_approve"] == []


def test_undoing_a_later_turn_keeps_the_approval(granted: Path) -> None:
    repl(granted, ["/set note hi", "/undo"])
    assert read_session_file(granted).meta["always_approve"] == ["execute_deployment"]


def test_a_cancelled_turn_takes_its_always_back(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    # "always", then Ctrl-C at the next question of the same turn: the turn is rolled back
    conversation = conversation_for("deploy", path)
    try:
        run_repl(conversation, [*SETUP, "/execute_deployment", CTRL_C])
        assert conversation.always_approve == frozenset()
    finally:
        conversation.close()


# -- over --url: only the answers a server accepts -------------------------------------


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    isolate(monkeypatch)
    with serving({"deploy": create_app(load_agent("deploy"))}) as urls:
        yield urls["deploy"]


def test_remote_approval_offers_no_edit(server: str, tmp_path: Path) -> None:
    conversation = open_conversation(ChatSettings(url=server, session=tmp_path / "r.json"))
    try:
        run = run_repl(conversation, [*SETUP, EXECUTE, "e", "y"])
    finally:
        conversation.close()
    assert run.asked[0] == "run it? [y]es [n]o [a]lways: "
    assert "answer y, n or a" in run.output  # "e" is not an answer here
    assert "▸ execute_deployment()" in run.output


def test_remote_always_is_honoured_without_asking(server: str, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    for answers in (["a"], []):
        conversation = open_conversation(ChatSettings(url=server, session=path))
        try:
            run = run_repl(conversation, [SETUP[0], EXECUTE, *answers])
        finally:
            conversation.close()
        assert run.asked == ["run it? [y]es [n]o [a]lways: "][: len(answers)]
        assert "▸ execute_deployment()" in run.output
