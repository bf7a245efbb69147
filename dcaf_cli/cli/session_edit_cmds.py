"""`dcaf session set/delete/clear/undo/new`: change a session file by hand.

Each edit is recorded as a turn (so `log` shows it and `undo` reverses it) and saved under
the same writer lock and atomic save as `dcaf run`: a file a running chat holds open is
refused with one line (exit 3) and nothing is lost. The work is done in `dcaf_cli.store.edits`.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dcaf_cli.cli.console import make_console, print_note
from dcaf_cli.cli.params import FileArg
from dcaf_cli.errors import UsageError
from dcaf_cli.session.text import plural

if TYPE_CHECKING:
    from dcaf_cli.store.edits import EditOutcome

commands = typer.Typer()  # its commands join `dcaf session` through `register`


def register(session_app: typer.Typer) -> None:
    """Add the editing commands to `dcaf session`."""
    session_app.registered_commands.extend(commands.registered_commands)


KeyArg = Annotated[
    str,
    typer.Argument(
        help="A key or a path into the data: cart, cart[0].item, cart.0.item.", show_default=False
    ),
]


def stdin_is_terminal() -> bool:
    """Whether we can ask a question (tests replace this)."""
    return sys.stdin.isatty()


def _show(outcome: "EditOutcome", *, title: str | None = None) -> None:
    from dcaf_cli.render.diff import render_changes
    from dcaf_cli.render.text import literal
    from dcaf_cli.render.turn import render_saved, render_secrets_warning

    console = make_console()
    if outcome.notice:
        print_note(outcome.notice)
    if title:
        console.print(literal(title, "bold"))
    console.print(render_changes(outcome.changes, width=max(30, console.width - 30)))
    if outcome.secrets:
        console.print(render_secrets_warning(outcome.secrets))
    if outcome.revision is None:
        console.print(literal("nothing changed; the file was not saved", "dim"))
    else:
        console.print(render_saved(str(outcome.path), outcome.revision))


@commands.command(
    "set",
    epilog="Examples:\n\n"
    "  dcaf session set cart.json 'cart[0].quantity' 3\n\n"
    '  dcaf session set cart.json prefs \'{"currency": "EUR"}\'\n\n'
    "  dcaf session set cart.json zip '\"02134\"'      # JSON quotes keep it a string\n\n"
    '  dcaf session set cart.json cart.2 \'{"item": "Gizmo", "quantity": 1}\'  # append',
)
def set_(
    file: FileArg,
    key: KeyArg,
    value: Annotated[
        str,
        typer.Argument(
            help='JSON where it parses (3, true, [1, 2], {...}, "text"), else the text as is.',
            show_default=False,
        ),
    ],
) -> None:
    """Set one value in a session file, recorded as a turn you can undo."""
    from dcaf_cli.store.edits import set_value
    from dcaf_cli.tools.slashcall import parse_value

    _show(set_value(file, key, parse_value(value)))


@commands.command(
    "delete",
    epilog="Examples:\n\n"
    "  dcaf session delete cart.json coupon\n\n"
    "  dcaf session delete cart.json 'cart[0]'",
)
def delete(file: FileArg, key: KeyArg) -> None:
    """Delete one key (or list item) from a session file, recorded as a turn you can undo."""
    from dcaf_cli.store.edits import delete_value

    _show(delete_value(file, key))


@commands.command(
    epilog="Examples:\n\n  dcaf session clear cart.json\n\n  dcaf session clear cart.json --yes",
)
def clear(
    file: FileArg,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (needed without a terminal).")
    ] = False,
) -> None:
    """Remove all the session data of a file (the conversation stays), recorded as a turn
    you can undo. Asks first unless --yes."""
    from dcaf_cli.store.edits import clear_session

    if not yes and not _confirm_clear(file):
        make_console(stderr=True).print("kept: nothing changed")
        return
    _show(clear_session(file))


def _confirm_clear(file: Path) -> bool:
    from dcaf_cli.store.filestore import read_session_file

    keys = len(read_session_file(file).session)  # unreadable files fail before asking
    if keys == 0:
        return True  # nothing to lose
    what = plural(keys, "key")
    if not stdin_is_terminal():
        raise UsageError(
            f"not clearing the {what} of {file} without confirmation (no terminal to ask"
            " on); add --yes"
        )
    everything = f"all {what}" if keys > 1 else what
    question = f"Remove {everything} of {file}? (`dcaf session undo` brings them back)"
    return typer.confirm(question, default=False, err=True)


@commands.command(
    epilog="Examples:\n\n  dcaf session undo cart.json\n\n  dcaf session undo cart.json --turns 3",
)
def undo(
    file: FileArg,
    turns: Annotated[int, typer.Option("--turns", "-n", help="How many turns to reverse.")] = 1,
) -> None:
    """Reverse the last turns of a session file: their changes to the session, their
    messages and their records (chat turns and edits alike)."""
    from dcaf_cli.store.edits import undo as undo_turns

    outcome = undo_turns(file, turns)
    numbers = ", ".join(str(n) for n in outcome.undone)
    _show(outcome, title=f"undid turn{'s' if len(outcome.undone) != 1 else ''} {numbers}")


@commands.command(
    epilog="Examples:\n\n"
    "  dcaf session new demo.json\n\n"
    "  dcaf session new demo.json --from payload.json   # a HelpDesk data.session",
)
def new(
    file: Annotated[
        Path,
        typer.Argument(help="The session file to create; it must not exist.", show_default=False),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Start from this session data: a bare JSON object (or another session file).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a session file, empty or holding some session data. Never overwrites a file."""
    from dcaf_cli.store.edits import create

    _show(create(file, source), title=f"created {file}")


@commands.command(
    "approvals",
    epilog="Examples:\n\n"
    "  dcaf session approvals deploy.json\n\n"
    "  dcaf session approvals deploy.json --revoke execute_deployment\n\n"
    "  dcaf session approvals deploy.json --revoke-all",
)
def approvals_cmd(
    file: FileArg,
    revoke: Annotated[
        list[str] | None,
        typer.Option(
            "--revoke", "-r", help="Make this tool ask again (repeatable).", metavar="TOOL"
        ),
    ] = None,
    revoke_all: Annotated[
        bool, typer.Option("--revoke-all", help="Make every tool ask again.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the standing approvals as a JSON list.")
    ] = False,
) -> None:
    """List the standing approvals of a session file (the tools answered "always" for, which
    run without asking), or revoke them. `dcaf run --approve no` refuses them in scripts."""
    from dcaf_cli.cli.console import print_json
    from dcaf_cli.render.text import literal
    from dcaf_cli.render.turn import render_saved
    from dcaf_cli.store.approvals import standing
    from dcaf_cli.store.filestore import read_session_file

    console = make_console()
    if revoke or revoke_all:
        from dcaf_cli.store.edits import revoke_approvals

        gone, revision = revoke_approvals(file, list(revoke or []), everything=revoke_all)
        if not gone:
            console.print(literal("no standing approvals; the file was not saved", "dim"))
            return
        console.print(literal(f"revoked: {', '.join(gone)}"))
        console.print(render_saved(str(file), revision or 0))
        return
    names = standing(read_session_file(file))
    if json_output:
        print_json(names)
    elif names:
        console.print(literal("\n".join(names)))
    else:
        console.print(literal("no standing approvals: every call that needs one asks", "dim"))


@commands.command(
    epilog="Examples:\n\n"
    "  dcaf session fork cart.json --at 1 try-gadgets.json\n\n"
    "  dcaf session diff cart.json try-gadgets.json     # compare the two afterwards",
)
def fork(
    file: FileArg,
    new: Annotated[
        Path,
        typer.Argument(help="The session file to create; it must not exist.", show_default=False),
    ],
    at: Annotated[
        int,
        typer.Option(
            "--at", help="Keep turns 1 to N (0: the session before the first turn).", min=0
        ),
    ],
) -> None:
    """Start a new session file from a point in a conversation: turns 1 to N of FILE, with
    the session, messages and history as they were after turn N, to try another path.
    FILE is not changed; NEW is never overwritten."""
    from dcaf_cli.store.edits import fork as fork_file

    outcome, kept = fork_file(file, at, new)
    turns = plural(kept, "turn", zero="no turns")
    _show(outcome, title=f"forked {file} after turn {at} into {new} ({turns})")
