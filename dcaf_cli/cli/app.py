"""The Typer application: global options and the command groups.

Commands live in their own modules and import anything heavy inside the command, so
`dcaf --help` costs little more than importing Typer and Rich.
"""

from __future__ import annotations

from typing import Annotated

import typer

EXIT_CODES = """Exit codes: 0 ok · 1 a turn or command failed · 2 bad input (file, arguments,
agent), nothing changed · 3 the session file is locked or changed on disk · 130 interrupted."""

app = typer.Typer(
    name="dcaf",
    help="A terminal for session-based LLM agents: chat, inspect and serve agents whose "
    "tools keep state in a JSON session.",
    epilog="Examples:\n\n"
    "  dcaf run shop --session cart.json             # chat; the session is saved to cart.json\n\n"
    "  dcaf session show cart.json                   # inspect it: no agent, no model, no key\n\n"
    "  dcaf tools shop                               # an agent's tools and their parameters\n\n"
    "  dcaf serve shop --port 8000                   # the agent over HTTP\n\n"
    "  dcaf models                                   # the model providers\n\n"
    "Run `dcaf COMMAND --help` for a command's options and examples.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from dcaf_cli.cli.about import version_text

        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Show the version and installed extras.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show the traceback of an error that stops dcaf (also DCAF_DEBUG=1)."
        ),
    ] = False,
) -> None:
    """dcaf: chat with, inspect and serve session-based agents."""


from dcaf_cli.cli import models_cmd as _models  # noqa: E402,F401  (registers `dcaf models`)
from dcaf_cli.cli import run as _run  # noqa: E402,F401  (registers `dcaf run`)
from dcaf_cli.cli import serve as _serve  # noqa: E402,F401  (registers `dcaf serve`)
from dcaf_cli.cli import session_cmds as _session  # noqa: E402,F401  (registers `dcaf session`)
from dcaf_cli.cli import tools_cmd as _tools  # noqa: E402,F401  (registers `dcaf tools`)
