"""The `dcaf` command: one entry point that maps every failure to one line and an exit code.

Commands raise the core's `DcafError`s; only here are they caught, printed as one line on
stderr (`--debug` adds the traceback) and turned into an `ExitStatus`. Whether to show
tracebacks is read from the parsed options (see `state`), and from `DCAF_DEBUG`.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Any

from dcaf_cli.errors import DcafError, ExitStatus


def _error(message: str) -> None:
    from dcaf_cli.session.redact import redact_message

    sys.stderr.write(f"dcaf: error: {redact_message(message)}\n")


def _traceback() -> None:
    """The traceback being handled, as `--debug` shows it: credentials masked."""
    from dcaf_cli.session.redact import redact_message

    sys.stderr.write(redact_message(traceback.format_exc()))


def _click_exception_class() -> Any:
    """The usage-error base class of the click that Typer runs on.

    Typer 0.2x vendors click as `typer._click` (and its errors are not the `click`
    package's); older Typer uses `click` itself. Importing only the one in use also keeps
    a second copy of click out of start-up.
    """
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # Typer before it vendored click
        from click import ClickException  # type: ignore[assignment]
    return ClickException


def main(argv: Sequence[str] | None = None) -> None:
    """Run `dcaf` with `argv` (default: the process's arguments) and exit."""
    try:
        status = run_cli(argv)
    except KeyboardInterrupt:  # Ctrl-C while dcaf starts, before run_cli catches it
        sys.stderr.write("dcaf: interrupted\n")
        status = int(ExitStatus.INTERRUPTED)
    sys.exit(status)


def run_cli(argv: Sequence[str] | None = None) -> int:
    import typer
    import typer.main

    from dcaf_cli import settings
    from dcaf_cli.cli.app import app
    from dcaf_cli.cli.coercion import install as install_plain_coercion
    from dcaf_cli.cli.metavars import install as install_click_metavars
    from dcaf_cli.cli.params import HELP_OPTIONS
    from dcaf_cli.cli.state import RunState

    click_exception = _click_exception_class()
    args = list(sys.argv[1:] if argv is None else argv)
    state = RunState()
    command = typer.main.get_command(app)
    install_plain_coercion(command, HELP_OPTIONS)
    install_click_metavars(command)
    try:
        state.debug = settings.debug()
        result = command.main(args=args, prog_name="dcaf", standalone_mode=False, obj=state)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click_exception as exc:
        _error(_usage_line(exc))
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("dcaf: interrupted\n")
        return int(ExitStatus.INTERRUPTED)
    except DcafError as exc:
        if state.debug:
            _traceback()
        _error(str(exc))
        return int(exc.exit_status)
    except BrokenPipeError:
        # `dcaf ... | head`: the reader left; say nothing more.
        sys.stderr.close()
        return int(ExitStatus.OK)
    except Exception as exc:
        if state.debug:
            _traceback()
        bug = "this is a bug in dcaf; run with --debug for the traceback"
        _error(f"{type(exc).__name__}: {exc} ({bug})")
        return int(ExitStatus.BUG)
    return int(result or 0)


def _usage_line(exc: Exception) -> str:
    """Click's usage error as the one line every other error is, with where to read more.

    (Click prints a usage block, a "Try" line and the error; pydantic's validators add a
    "Value error, " prefix that says nothing to the user.)"""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = " ".join(str(message).replace("Value error, ", "").split())
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    return f"{message} (see `{path} --help`)" if path else message
