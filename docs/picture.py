"""Draw the README's picture (docs/turn.svg) from the program itself.

    python docs/picture.py docs/turn.svg     (or: make picture)

Runs real turns of the shop agent through the same code `dcaf run` uses, on a console
that records what it prints, and saves that as SVG. Tool timings come from a fixed clock
so the picture only changes when the rendering does (a test checks it is current).
"""

from __future__ import annotations

import io
import itertools
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

from dcaf_cli.conversation import Conversation
from dcaf_cli.repl.scripted import AutoDecider
from dcaf_cli.repl.view import TurnView
from dcaf_cli.runtime import execution
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.runtime.runner import run_sync
from dcaf_cli.store.filestore import SessionStore

TURNS = ("add 2 widgets to my cart", "/add_to_cart Gadget 1", "checkout")


def draw() -> str:
    ticks = itertools.count()
    execution.time.perf_counter = lambda: next(ticks) * 0.000_187  # type: ignore[attr-defined]
    console = Console(
        record=True,
        width=72,
        file=io.StringIO(),
        force_terminal=True,
        force_interactive=False,  # no status line: the picture shows what stays on screen
        color_system="truecolor",
        legacy_windows=False,
    )
    with tempfile.TemporaryDirectory() as folder:
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            store = SessionStore("cart.json")
            conversation = Conversation(load_agent("shop"), store.open(), store)
            view = TurnView(console, conversation)
            for text in TURNS[:2]:
                console.print(Text.assemble(("› ", "bold"), text))
                printer = view.printer()
                report = run_sync(conversation.send(text, AutoDecider(True, console), printer))
                view.show_turn(report, printer)
            conversation.close()
        finally:
            os.chdir(cwd)
    return console.export_svg(title="dcaf run shop --session cart.json")


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/turn.svg")
    target.write_text(draw(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
