"""`dcaf session ...`: inspect, compare and export session files offline.

No agent, no model, no key: these commands read the file without locking it (saves are
atomic, so a file a running `dcaf run` holds is read whole) and import only the store and
the renderers, so they start fast. The editing commands live in `session_edit_cmds.py`.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dcaf_cli.cli import library_cmds, session_edit_cmds
from dcaf_cli.cli.console import make_console, print_json, print_note
from dcaf_cli.cli.params import HELP_OPTIONS, FileArg, RevealOpt

if TYPE_CHECKING:
    from dcaf_cli.store.sessionfile import SessionFile

session_app = typer.Typer(
    name="session",
    help="Inspect, compare, edit and undo session files offline: no agent, no model, no key. "
    "ls, rm and prune work on the sessions folder, where `dcaf run` saves without --session.",
    epilog="Examples:\n\n"
    "  dcaf session ls                     # the saved sessions, most recent first\n\n"
    "  dcaf session show sessions/shop.json\n\n"
    "  dcaf session log sessions/shop.json\n\n"
    "  dcaf session set cart.json 'cart[0].quantity' 3\n\n"
    "  dcaf session undo cart.json\n\n"
    'Paths into the data: cart[0].item or cart.0.item; quote odd keys as prefs["a.b"]. '
    "In the shell, quote a path with brackets ('cart[0].item'): zsh reads [0] as a pattern.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": HELP_OPTIONS},
)


def register(app: typer.Typer) -> None:
    """Add `dcaf session` and its commands (these, the editing ones, then the sessions
    folder's) to `app`."""
    session_edit_cmds.register(session_app)
    library_cmds.register(session_app)
    app.add_typer(session_app)


def _at_turn(doc: "SessionFile", turn: int | None) -> dict[str, Any]:
    if turn is None:
        return doc.session
    from dcaf_cli.store.history import session_at_turn

    return session_at_turn(doc, turn)


@session_app.command(
    epilog="Examples:\n\n"
    "  dcaf session show sessions/shop.json\n\n"
    "  dcaf session show sessions/shop.json --key 'cart[0]'\n\n"
    "  dcaf session show sessions/shop.json --turn 1\n\n"
    "  dcaf session show sessions/shop.json --json | jq '.cart | length'",
)
def show(
    file: FileArg,
    key: Annotated[
        str | None,
        typer.Option("--key", "-k", help="Show only this value: cart, cart[0].item, cart.0.item."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print exactly the session data (or the value), as JSON.")
    ] = False,
    reveal: RevealOpt = False,
    turn: Annotated[
        int | None,
        typer.Option("--turn", "-t", help="As it was after turn N (0: before turn 1)."),
    ] = None,
) -> None:
    """Show a session file: its facts (revision, turns, agent, model) and its data as a tree,
    values shown literally and secrets redacted."""
    from dcaf_cli.store.filestore import read_session_file

    doc = read_session_file(file)
    if doc.notice:
        print_note(doc.notice)
    data = _at_turn(doc, turn)
    if key is not None:
        from dcaf_cli.session.keypath import format_key_path, lookup

        where, value = lookup(data, key)
        if json_output:
            print_json(value)
            return
        data = {format_key_path(where): value}
    if json_output:
        print_json(data)
        return
    from dcaf_cli.render.sessionfile import render_file

    make_console().print(render_file(doc, data, source=str(file), turn=turn, reveal=reveal))


@session_app.command(
    epilog="Examples:\n\n"
    "  dcaf session log sessions/shop.json\n\n"
    "  dcaf session log sessions/shop.json --json | jq '.[] | {n, input}'",
)
def log(
    file: FileArg,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the turn records, with their tool calls, reply, patch and undo patch.",
        ),
    ] = False,
    reveal: RevealOpt = False,
) -> None:
    """List the turns of a session file: number, time, input, tools called, keys changed.

    --json prints the turn records (with their JSON Patch and undo patch), each with the
    tool calls and reply its messages hold."""
    from dcaf_cli.store.filestore import read_session_file
    from dcaf_cli.store.records import complete_records

    turns = complete_records(read_session_file(file))
    if json_output:
        print_json(turns)
        return
    from dcaf_cli.render.session import render_log

    console = make_console()
    console.print(render_log(turns, width=max(20, console.width // 3), reveal=reveal))


@session_app.command(
    epilog="Examples:\n\n"
    "  dcaf session diff before.json after.json\n\n"
    "  dcaf session diff sessions/shop.json             # what the last turn changed\n\n"
    "  dcaf session diff sessions/shop.json --turn 1    # everything since turn 1\n\n"
    "  dcaf session diff a.json b.json --json > fix.patch.json",
)
def diff(
    a: FileArg,
    b: Annotated[
        Path | None,
        typer.Argument(help="The file to compare A with (full or bare).", show_default=False),
    ] = None,
    turn: Annotated[
        int | None,
        typer.Option("--turn", "-t", help="Compare A as it was after turn N with A now."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the RFC 6902 JSON Patch that turns A into B.")
    ] = False,
    reveal: RevealOpt = False,
) -> None:
    """Show what differs between two session files, or between a file and one of its turns:
    added (+), removed (-) and changed (~) values, by path.

    With only A, shows what A's last turn changed."""
    from dcaf_cli.session.diff import diff_sessions, to_patch
    from dcaf_cli.store.comparison import sessions_to_compare

    label, before, after = sessions_to_compare(a, b, turn)
    changes = diff_sessions(before, after)
    if json_output:
        print_json(to_patch(changes))
        return
    from dcaf_cli.render.diff import render_changes
    from dcaf_cli.render.text import literal

    console = make_console()
    console.print(literal(label, "bold"))
    console.print(render_changes(changes, reveal=reveal, width=max(30, console.width - 30)))


@session_app.command(
    epilog="Examples:\n\n"
    "  dcaf session get sessions/shop.json cart\n\n"
    "  dcaf session get sessions/shop.json 'cart[0].item' | jq -r .",
)
def get(
    file: FileArg,
    key: Annotated[
        str, typer.Argument(help="cart, cart[0].item or cart.0.item.", show_default=False)
    ],
) -> None:
    """Print one value of the session as JSON, exactly as stored (for scripts; `show --key`
    is the redacted view)."""
    from dcaf_cli.session.keypath import lookup
    from dcaf_cli.store.filestore import read_session_file

    print_json(lookup(read_session_file(file).session, key)[1])


class ExportFormat(StrEnum):
    session = "session"
    messages = "messages"
    markdown = "markdown"


@session_app.command(
    epilog="Examples:\n\n"
    "  dcaf session export sessions/shop.json > cart.json\n\n"
    "  dcaf session export sessions/shop.json --format messages | jq length\n\n"
    "  dcaf session export sessions/shop.json --format markdown > transcript.md",
)
def export(
    file: FileArg,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="session: the session data (a bare file `session new --from` reads); "
            "messages: the conversation as HelpDesk-protocol messages; markdown: a transcript.",
        ),
    ] = ExportFormat.session,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Markdown only: show secrets instead of redacting.")
    ] = False,
) -> None:
    """Write a session file's data, conversation or transcript to stdout. JSON formats are
    exact; the Markdown transcript redacts secrets unless --reveal."""
    from dcaf_cli.store.filestore import read_session_file
    from dcaf_cli.store.transcript import export_document

    doc = read_session_file(file)
    sys.stdout.write(export_document(doc, fmt.value, source=str(file), reveal=reveal))


@session_app.command(
    epilog="Exit codes: 0 valid · 1 valid with warnings (secrets stored, a history that does "
    "not replay, duplicate keys) · 2 invalid (unreadable, a newer format, values or messages "
    "dcaf would refuse, an undo history that does not apply).\n\n"
    "Examples:\n\n"
    "  dcaf session validate sessions/shop.json\n\n"
    "  dcaf session validate cart.json || echo 'look at cart.json'",
)
def validate(file: FileArg) -> None:
    """Check a session file: its format, JSON-only values, messages, undo history, and
    secrets stored in it. The exit code says the result."""
    from dcaf_cli.render.sessionfile import render_validation
    from dcaf_cli.store.validation import validate_file

    result = validate_file(file)
    if result.doc.notice:
        print_note(result.doc.notice)
    make_console().print(render_validation(result, str(file)))
    raise typer.Exit({"valid": 0, "warnings": 1, "invalid": 2}[result.verdict])
