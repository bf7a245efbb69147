"""`/sessions` and `/switch`: the REPL and the sessions folder.

The folder and the way to open one of its files come from the CLI (`SessionSource`), as
only it knows how to load the agent and the model a file records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.text import Text

from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import UsageError
from dcaf_cli.render.library import render_choices
from dcaf_cli.render.text import literal
from dcaf_cli.store.library import SessionLibrary


@dataclass(frozen=True)
class SessionSource:
    """The sessions folder (`/sessions`), and how to open one of its files (`/switch`)."""

    library: SessionLibrary
    open: Callable[[Path], Conversation]


class SwitchContext(Protocol):
    """What the two commands use of the REPL."""

    conversation: Conversation
    console: Console
    reveal: bool
    sessions: SessionSource | None

    def show_outcome(self, report: TurnReport) -> None: ...

    def use(self, conversation: Conversation) -> None: ...

    def greet(self) -> None: ...


def sessions_command(repl: SwitchContext, arg: str) -> bool:
    """`/sessions`: the folder's sessions, most recent first, this one marked."""
    sessions = _source(repl).library.scan().sessions
    if not sessions:
        repl.console.print(literal(f"no saved sessions in {_source(repl).library.folder}", "dim"))
        return True
    current = _resolved(repl.conversation.path)
    here = next((s.path for s in sessions if _resolved(s.path) == current), None)
    repl.console.print(render_choices(sessions, now=time.time(), current=here, reveal=repl.reveal))
    repl.console.print(Text("/switch NAME continues one of them", style="dim"))
    return True


def switch_command(repl: SwitchContext, arg: str) -> bool:
    """`/switch NAME`: save this session, then carry on in NAME (with its agent and model)."""
    name = arg.strip()
    if not name:
        raise UsageError("usage: /switch NAME", hint="/sessions lists them")
    source = _source(repl)
    path = source.library.find(name)
    conversation = repl.conversation
    if _resolved(path) == _resolved(conversation.path):
        repl.console.print(literal(f"already in {path.stem}", "dim"))
        return True
    if conversation.unsaved:
        if conversation.path is None:
            raise UsageError("this session is in memory only; /save FILE keeps it, then /switch")
        report = conversation.save()
        if report.save_error is not None:
            repl.show_outcome(report)
            return True
    repl.use(source.open(path))  # a locked or broken file: one line, and we stay here
    repl.greet()
    return True


def _source(repl: SwitchContext) -> SessionSource:
    if repl.sessions is None:
        raise UsageError("this chat has no sessions folder")
    return repl.sessions


def _resolved(path: Path | None) -> Path | None:
    return path.resolve() if path is not None else None
