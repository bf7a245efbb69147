"""The consoles and the JSON output of the commands: built here, and only here.

Rich reads `COLUMNS` and `NO_COLOR` as it builds a console, so tests (and scripts) get a
fixed width and plain text by setting them. Output that goes to a pipe or a file is plain
text: lines are not wrapped (unless `COLUMNS` asks for a width) and carry no trailing
padding, so `grep` and `diff` see what was printed.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any, TextIO, cast

from dcaf_cli.session.jsontext import dumps

if TYPE_CHECKING:
    from rich.console import Console


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that prints data literally: no highlighting."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False)
    width = None if os.environ.get("COLUMNS") else 10_000  # a pipe: no wrapping
    return Console(file=cast(IO[str], _Unpadded(stream)), width=width, highlight=False)


class _Unpadded:
    """A text stream that drops the spaces Rich pads lines with, before each newline."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.stream.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending.strip(" "):
            self.stream.write(self.pending)
            self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()


def print_note(text: str) -> None:
    """A note on stderr, on one line, as errors are: `dcaf: note: ...`. Every command says
    how it read a file (bare session data, an empty file) and what it ignores this way."""
    from rich.text import Text

    from dcaf_cli.render.text import literal

    make_console(stderr=True).print(Text("dcaf: note: ") + literal(text), soft_wrap=True)


def print_json(value: Any) -> None:
    """`value` as indented JSON on stdout, for `jq` and other programs."""
    sys.stdout.write(dumps(value, indent=2) + "\n")  # any depth, unlike json.dumps
