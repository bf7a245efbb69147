"""What the options of the whole run decide, shared by the commands and the error boundary.

`run_cli` makes one `RunState` and hands it to Click as the context object; the root
callback (and `dcaf run --debug`) set it from the parsed options, so a `--debug` that is
an option's value (`session show FILE -k --debug`) is not taken for the flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer


@dataclass(slots=True)
class RunState:
    debug: bool = False  # show the traceback of an error that stops dcaf


def run_state(ctx: typer.Context) -> RunState:
    """The run's state, made if the command was invoked without `run_cli` (Typer's tests)."""
    state = ctx.find_root().obj
    if not isinstance(state, RunState):
        state = ctx.find_root().obj = RunState()
    return state
