"""Help text and argument types that several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP_OPTIONS = ["-h", "--help"]

EXIT_CODES = """Exit codes: 0 ok · 1 a turn or command failed · 2 bad input (file, arguments,
agent), nothing changed · 3 the session file is locked or changed on disk · 70 a bug in dcaf
(please report it) · 130 interrupted."""

FileArg = Annotated[
    Path,
    typer.Argument(
        help="A session file: the dcaf format, or a bare JSON object of session data.",
        show_default=False,
    ),
]
RevealOpt = Annotated[bool, typer.Option("--reveal", help="Show secrets instead of redacting.")]
