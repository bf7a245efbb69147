"""The consoles and the JSON output of the commands: built here, and only here.

Rich reads `COLUMNS` and `NO_COLOR` as it builds a console, so tests (and scripts) get a
fixed width and plain text by setting them.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that prints data literally: no highlighting."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def print_json(value: Any) -> None:
    """`value` as indented JSON on stdout, for `jq` and other programs."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
