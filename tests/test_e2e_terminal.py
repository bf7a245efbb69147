"""End to end: the installed `dcaf` in a real terminal (tmux), typed at like a person."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dcaf_cli.store.filestore import read_session_file

DCAF = Path(sys.executable).with_name("dcaf")

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux server of our own (its socket in tmp_path, no config), one 120x40 window."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=10,
            check=True,
        )
        return result.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "e2e", command)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "e2e", "-l", text)  # literally, not as key names

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, check: Callable[[str], bool] | str, timeout: float = 60) -> str:
        """Poll the screen until `check` holds (a string: appears), or fail with the screen."""
        test = (lambda s: check in s) if isinstance(check, str) else check
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            screen = self.screen()
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {check!r}; the screen:\n{screen}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"],
            capture_output=True,
            env=self.env,
            timeout=10,
            check=False,
        )


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    env = {**os.environ, "TERM": "xterm-256color", "TMUX": ""}
    env.pop("TMUX")
    term = Terminal(tmp_path / "tmux.sock", env)
    try:
        yield term
    finally:
        term.close()


def prompt_text(screen: str) -> str | None:
    """What is typed at the last prompt on the screen (None: no prompt yet)."""
    line = next((ln for ln in reversed(screen.splitlines()) if "›" in ln), None)
    return None if line is None else line.rsplit("›", 1)[1].strip()


def test_typing_turns_tab_completion_and_ctrl_d(terminal: Terminal, tmp_path: Path) -> None:
    cart = tmp_path / "cart.json"
    command = f"{shlex.quote(str(DCAF))} run shop --session {shlex.quote(str(cart))}"
    terminal.start(f'{command}; echo "[dcaf exited $?]"; sleep 60')
    screen = terminal.wait_for(lambda s: prompt_text(s) == "")
    assert "dcaf · shop · offline · " in screen
    assert "/help for commands" in screen
    terminal.wait_for("rev 0 · 0 turns · offline · approvals: ask")  # the bottom toolbar

    terminal.type("add 2 widgets to my cart")
    terminal.keys("Enter")
    screen = terminal.wait_for(f"saved {cart} (revision 1)")
    assert '▸ add_to_cart(quantity=2, item="widget")' in screen
    assert '+ cart [{"item": "widget", "quantity": 2}]' in screen

    terminal.type("/view_c")
    terminal.keys("Tab")
    terminal.wait_for(lambda s: prompt_text(s) == "/view_cart")
    terminal.keys("Enter")
    screen = terminal.wait_for(f"saved {cart} (revision 2)")
    assert "Total: 2 items" in screen

    terminal.type("/set note [red]hi[/red]")
    terminal.keys("Enter")
    screen = terminal.wait_for(f"saved {cart} (revision 3)")
    assert '+ note "[red]hi[/red]"' in screen  # markup shown, not obeyed
    terminal.wait_for("rev 3 · 3 turns · offline")

    terminal.type("this line is abandoned")
    terminal.wait_for(lambda s: prompt_text(s) == "this line is abandoned")
    terminal.keys("C-c")  # clears the line
    terminal.wait_for(lambda s: prompt_text(s) == "")

    # Between two prompts the terminal is in cooked mode for a moment, and the screen can
    # show the next prompt before it reads keys: a Ctrl-D sent then is eaten by the kernel
    # (it reaches the prompt as NUL). So first prove the prompt reads keys: type a letter
    # and see the prompt draw it (a letter typed early is only delayed, not lost).
    terminal.type("x")
    terminal.wait_for(lambda s: prompt_text(s) == "x")
    terminal.keys("BSpace")
    terminal.wait_for(lambda s: prompt_text(s) == "")
    terminal.keys("C-d")
    terminal.wait_for("[dcaf exited 0]")

    doc = read_session_file(cart)
    assert doc.revision == 3
    assert doc.session == {"cart": [{"item": "widget", "quantity": 2}], "note": "[red]hi[/red]"}
    assert [t["input"] for t in doc.turns] == [
        "add 2 widgets to my cart",
        "/view_cart",
        "/set note [red]hi[/red]",
    ]
    history = Path(os.environ["DCAF_HOME"], "history").read_text()
    assert "+/view_cart" in history
    assert "abandoned" not in history


def test_a_run_without_a_file_is_saved_and_resume_picks_it(
    terminal: Terminal, sessions_dir: Path, tmp_path: Path
) -> None:
    terminal.start(f'{shlex.quote(str(DCAF))} run shop; echo "[dcaf exited $?]"; sleep 60')
    screen = terminal.wait_for(lambda s: prompt_text(s) == "")
    assert f"dcaf · shop · offline · {sessions_dir}/shop-" in " ".join(screen.split())
    terminal.type("add 2 widgets")
    terminal.keys("Enter")
    terminal.wait_for("(revision 1)")
    terminal.type("x")  # see the first test: prove the prompt reads keys before Ctrl-D
    terminal.wait_for(lambda s: prompt_text(s) == "x")
    terminal.keys("BSpace")
    terminal.wait_for(lambda s: prompt_text(s) == "")
    terminal.keys("C-d")
    terminal.wait_for("[dcaf exited 0]")
    (saved,) = sessions_dir.glob("shop-*.json")

    # A tmux server of its own: the first one may still be running its `sleep`.
    second = Terminal(tmp_path / "tmux-resume.sock", terminal.env)
    try:
        second.start(f'{shlex.quote(str(DCAF))} run --resume; echo "[dcaf exited $?]"; sleep 60')
        screen = second.wait_for("session (number or name, Enter for 1):")
        assert saved.stem in screen
        assert "add 2 widgets" in screen  # the last input
        second.type("1")
        second.wait_for("Enter for 1): 1")
        second.keys("Enter")
        screen = second.wait_for("1 key · 1 turn")
        assert f"dcaf · shop · offline · {saved}" in " ".join(screen.split())
    finally:
        second.close()


def test_an_unwritable_home_only_turns_history_off(terminal: Terminal, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"  # DCAF_HOME under a file: no folder can be made there
    blocker.write_text("")
    cart = tmp_path / "cart.json"
    command = f"{shlex.quote(str(DCAF))} run shop --session {shlex.quote(str(cart))}"
    home = shlex.quote(str(blocker / "dcaf"))
    terminal.start(f'DCAF_HOME={home} {command}; echo "[dcaf exited $?]"; sleep 60')
    screen = terminal.wait_for(lambda s: prompt_text(s) == "")
    assert "bug in dcaf" not in screen
    assert screen.count("prompt history is off for this run") == 1
    terminal.type("add 2 widgets to my cart")
    terminal.keys("Enter")
    screen = terminal.wait_for(f"saved {cart} (revision 1)")
    assert screen.count("prompt history is off for this run") == 1  # said once
