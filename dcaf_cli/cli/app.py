"""The Typer application: global options and the command groups.

Commands live in their own modules, which never import this one: each offers a
`register(app)` that this module calls. They import anything heavy inside the command, so
`dcaf --help` costs little more than importing Typer and Rich.
"""

from typing import Annotated

import typer

from dcaf_cli.cli.params import EXIT_CODES, HELP_OPTIONS
from dcaf_cli.cli.state import run_state

app = typer.Typer(
    name="dcaf",
    help="A terminal for session-based LLM agents: chat, inspect and serve agents whose "
    "tools keep state in a JSON session.",
    epilog="Examples:\n\n"
    "  dcaf run shop --session cart.json   # chat; cart.json is saved every turn\n\n"
    "  dcaf run -c                         # continue the last session saved for you\n\n"
    "  dcaf session show cart.json         # inspect it: no agent, no model, no key\n\n"
    "  dcaf tools shop                     # an agent's tools and their parameters\n\n"
    "  dcaf serve shop --port 8000         # the agent over HTTP\n\n"
    "  dcaf models                         # the model providers\n\n"
    "Run `dcaf COMMAND --help` for a command's options and examples.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTIONS},
)


def _version(value: bool) -> None:
    if value:
        from dcaf_cli.cli.about import version_text

        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
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
    if debug:
        run_state(ctx).debug = True


def _register_commands() -> None:
    from dcaf_cli.cli import (
        mcp_cmd,
        models_cmd,
        replay_cmd,
        run,
        serve,
        session_cmds,
        tools_cmd,
    )

    for module in (models_cmd, run, serve, mcp_cmd, tools_cmd, session_cmds, replay_cmd):
        module.register(app)


_register_commands()
