"""The `dcaf` command: one entry point that maps every failure to one line and an exit code.

Commands raise the core's `DcafError`s; only here are they caught, printed as one line on
stderr (`--debug` adds the traceback) and turned into an `ExitStatus`.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from dcaf_cli.errors import DcafError, ExitStatus


def _error(message: str) -> None:
    sys.stderr.write(f"dcaf: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Run `dcaf` with `argv` (default: the process's arguments) and exit."""
    sys.exit(run_cli(argv))


def run_cli(argv: Sequence[str] | None = None) -> int:
    import click
    import typer.main

    from dcaf_cli.cli.app import app

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("DCAF_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="dcaf", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.stderr.write("dcaf: interrupted\n")
        return int(ExitStatus.INTERRUPTED)
    except DcafError as exc:
        if debug:
            traceback.print_exc()
        _error(str(exc))
        return int(exc.exit_status)
    except BrokenPipeError:
        # `dcaf ... | head`: the reader left; say nothing more.
        sys.stderr.close()
        return int(ExitStatus.OK)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        _error(
            f"{type(exc).__name__}: {exc} (this is a bug in dcaf; run with --debug for the traceback)"
        )
        return int(ExitStatus.ERROR)
    return int(result or 0)
