"""Which session file `dcaf run` works on: the one `--session` names, the last one (`-c`),
one by name or picked (`--resume`), or a new one in the sessions folder (none of them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dcaf_cli.errors import UsageError
from dcaf_cli.store.library import SessionLibrary

if TYPE_CHECKING:
    from dcaf_cli.cli.chat import ChatSettings

# Pick a session from the folder (the terminal's picker), given the AGENT to filter by.
Picker = Callable[[SessionLibrary, str | None], Path]

_WHICH = {"--session": "session", "--continue": "continue_last", "--no-save": "no_save"}


def chosen_file(
    settings: ChatSettings, library: SessionLibrary, pick: Picker | None
) -> Path | None:
    """The file to open, or None for a new one (in the folder, or in memory: --no-save)."""
    given = [flag for flag, name in _WHICH.items() if getattr(settings, name)]
    given += ["--resume"] if settings.resume is not None else []
    if len(given) > 1:
        raise UsageError(
            f"{' and '.join(given)} cannot be used together: each chooses the session file"
        )
    agent = settings.agent or settings.url  # a server's sessions record its URL
    if settings.continue_last:
        return library.latest(agent).path
    if settings.resume:
        return library.find(settings.resume)
    if settings.resume is not None:
        if pick is None:
            raise UsageError(
                "--resume without a NAME asks which session, and there is no terminal to ask",
                hint="give a NAME; `dcaf session ls` lists them",
            )
        return pick(library, agent)
    return settings.session
