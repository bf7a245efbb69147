"""`dcaf run --resume` on a terminal: the saved sessions, most recent first, and a prompt
that takes a number or a name (Tab completes names)."""

from __future__ import annotations

import time
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import WordCompleter
from rich.console import Console
from rich.text import Text

from dcaf_cli.errors import UsageError
from dcaf_cli.render.library import render_choices
from dcaf_cli.render.text import literal
from dcaf_cli.store.library import SessionLibrary

SHOWN = 20  # older sessions are still picked by name


def pick_session(
    library: SessionLibrary,
    agent: str | None,
    *,
    prompt: PromptSession[str] | None = None,
    console: Console | None = None,
) -> Path:
    """The session file the user picks; Ctrl-C or Ctrl-D cancels (KeyboardInterrupt)."""
    sessions = [s for s in library.scan().sessions if agent is None or s.agent == agent]
    if not sessions:
        of = f" of agent {agent!r}" if agent else ""
        raise UsageError(
            f"there is no saved session{of} in {library.folder} to resume",
            hint="start one with `dcaf run AGENT`",
        )
    console = console or Console(highlight=False)
    shown = sessions[:SHOWN]
    console.print(render_choices(shown, now=time.time()))
    if len(sessions) > len(shown):
        older = len(sessions) - len(shown)
        console.print(Text(f"… and {older} older (type a name)", style="dim"))
    names = [s.name for s in sessions]
    prompt = prompt or PromptSession()
    while True:
        try:
            answer = prompt.prompt(
                "session (number or name, Enter for 1): ",
                completer=WordCompleter(names, sentence=True),
            ).strip()
        except EOFError:
            raise KeyboardInterrupt from None
        if not answer or (answer.isdigit() and 1 <= int(answer) <= len(shown)):
            return shown[int(answer or 1) - 1].path
        try:
            return library.find(answer)
        except UsageError as exc:
            console.print(Text("error: ", style="red") + literal(str(exc)))
