"""One redaction rule for every view (call line, tool output, reply, diff, --json), and a
REPL history that is private and never keeps a line with a secret in it."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run_dcaf
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from repl_helpers import ScriptedPrompts

from dcaf_cli.session.redact import MASK


@pytest.fixture
def dcaf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(*args: str | Path) -> Any:
        return run_dcaf(capsys, monkeypatch, *args)

    return run


def test_every_view_hides_the_same_secret(dcaf: Any, tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    r = dcaf("run", "notes", "-s", path, "-m", "/remember password hunter2",
             "-m", "recall password")  # fmt: skip
    assert r.status == 0
    assert "hunter2" not in r.out + r.err
    assert f'▸ remember(key="password", value="{MASK}")' in r.out  # the call line
    assert f"↳ Remembered password={MASK}" in r.out  # the tool output
    assert f"↳ password is {MASK}" in r.out
    assert f'+ password "{MASK}"' in r.out  # the diff
    r = dcaf("run", "notes", "-s", path, "-m", "/remember password hunter3", "--json")
    assert "hunter3" not in r.out
    turn = json.loads(r.out)
    assert turn["input"] == f"/remember password {MASK}"
    assert turn["tool_calls"][0]["input"] == {"key": "password", "value": MASK}
    assert "hunter3" in path.read_text()  # only the views hide it


def test_reveal_shows_it_everywhere(dcaf: Any, tmp_path: Path) -> None:
    r = dcaf("run", "notes", "-s", tmp_path / "n.json", "-m", "/remember password hunter2",
             "--reveal")  # fmt: skip
    assert '▸ remember(key="password", value="hunter2")' in r.out
    assert "↳ Remembered password=hunter2" in r.out


def test_history_is_private_and_keeps_no_secret(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dcaf_cli.repl.app as repl_app
    from dcaf_cli.cli.chat import ChatSettings, start_chat

    real = repl_app.make_prompt_session
    lines = [
        "/remember color blue",
        "/remember password hunter2",
        "my api_key is sk-abcdefghijklmnopqrstuv",
    ]
    with create_pipe_input() as pipe:

        def scripted(**kwargs: object) -> object:
            session = real(input=pipe, output=DummyOutput(), **kwargs)
            ScriptedPrompts(pipe, lines).install(session)
            return session

        monkeypatch.setattr(repl_app, "make_prompt_session", scripted)
        start_chat(ChatSettings(agent="notes", session=tmp_path / "n.json", model="offline"))
    history = isolated_env / "history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    text = history.read_text()
    assert "+/remember color blue" in text
    assert "hunter2" not in text
    assert "sk-abc" not in text


def test_an_old_world_readable_history_is_made_private(isolated_env: Path) -> None:
    from dcaf_cli.repl.history import PrivateHistory

    isolated_env.mkdir(parents=True)
    old = isolated_env / "history"
    old.write_text("\n# 2026-01-01\n+add 2 widgets\n")
    old.chmod(0o644)
    history = PrivateHistory(old)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert list(history.load_history_strings()) == ["add 2 widgets"]
