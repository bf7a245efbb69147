"""`dcaf session ls/rm/prune`: the sessions folder, where `dcaf run` saves a conversation
when no `--session` file is named. Files that are not session files are skipped, and a
session open in another dcaf is never removed."""

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dcaf_cli.cli.console import make_console, print_json
from dcaf_cli.errors import DcafError, ExitStatus
from dcaf_cli.session.text import plural

if TYPE_CHECKING:
    from dcaf_cli.store.library import Listing, SessionLibrary
    from dcaf_cli.store.summary import Summary

commands = typer.Typer()  # its commands join `dcaf session` through `register`


def register(session_app: typer.Typer) -> None:
    """Add `ls`, `rm` and `prune` to `dcaf session`."""
    session_app.registered_commands.extend(commands.registered_commands)


DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        "-d",
        help="The sessions folder (default: $DCAF_SESSIONS_DIR, else `sessions` in dcaf's "
        "data folder).",
        file_okay=False,
        show_default=False,
    ),
]


def _library(folder: Path | None) -> "SessionLibrary":
    from dcaf_cli.settings import sessions_dir
    from dcaf_cli.store.library import SessionLibrary

    return SessionLibrary(folder if folder is not None else sessions_dir())


@commands.command(
    name="ls",
    epilog="Examples:\n\n"
    "  dcaf session ls\n\n"
    "  dcaf session ls ~/projects/shop/sessions\n\n"
    "  dcaf session ls --json | jq -r '.sessions[0].name'",
)
def ls(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="The folder to list (default: the sessions folder, $DCAF_SESSIONS_DIR).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the sessions and the skipped files as JSON."),
    ] = False,
) -> None:
    """List saved sessions, most recently used first: name, agent, model, turns, revision,
    last used, size. Files that are not session files are skipped and counted."""
    from dcaf_cli.errors import UsageError

    if folder is not None and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; give the folder that holds the sessions")
    listing = _library(folder).scan()
    if json_output:
        print_json(_listing_json(listing))
        return
    from dcaf_cli.render.library import render_listing

    make_console().print(render_listing(listing, now=time.time()))


def _listing_json(listing: "Listing") -> dict[str, Any]:
    from datetime import UTC, datetime

    def one(s: "Summary") -> dict[str, Any]:
        used = datetime.fromtimestamp(s.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "name": s.name, "path": str(s.path), "agent": s.agent, "model": s.model,
            "turns": s.turns, "revision": s.revision, "last_used": used, "size": s.size,
            "last_input": s.last_input, "open": s.open,
        }  # fmt: skip

    return {
        "folder": str(listing.folder),
        "sessions": [one(s) for s in listing.sessions],
        "skipped": [
            {"path": str(s.path), "reason": s.reason, "broken": s.broken} for s in listing.skipped
        ],
    }


@commands.command(
    name="rm",
    epilog="Examples:\n\n"
    "  dcaf session rm shop-20261201-090000\n\n"
    "  dcaf session rm shop-20261201-090000 notes-20261130-170512",
)
def rm(
    names: Annotated[
        list[str],
        typer.Argument(
            help="Session names as `dcaf session ls` shows them (or the start of one), or paths.",
            show_default=False,
        ),
    ],
    folder: DirOpt = None,
) -> None:
    """Delete saved sessions. A session open in another dcaf is left alone (exit 3)."""
    library = _library(folder)
    console = make_console()
    worst = ExitStatus.OK
    for name in names:
        try:
            path = library.find(name)
            library.remove(path)
        except DcafError as exc:
            _error(str(exc))
            worst = max(worst, exc.exit_status)
            continue
        console.print(f"removed {path.stem}", markup=False, highlight=False)
    if worst != ExitStatus.OK:
        raise typer.Exit(int(worst))


@commands.command(
    epilog="Examples:\n\n"
    "  dcaf session prune --older-than 30d\n\n"
    "  dcaf session prune --older-than 12h --yes",
)
def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Remove sessions last used longer ago than this: 30d, 12h, 2w, 90m, 45s.",
            show_default=False,
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove without asking.")] = False,
    folder: DirOpt = None,
) -> None:
    """Delete the sessions not used for a while. Asks first (unless --yes); never touches a
    session open in another dcaf, nor a file that is not a session file."""
    from dcaf_cli.render.library import render_choices
    from dcaf_cli.store.library import parse_age

    seconds = parse_age(older_than)
    library = _library(folder)
    free, busy = library.older_than(seconds)
    console = make_console()
    for s in busy:
        console.print(f"skipped {s.name}: open in another dcaf", markup=False, highlight=False)
    if not free:
        console.print(f"no sessions older than {older_than} in {library.folder}", markup=False)
        return
    console.print(render_choices(free, now=time.time()))
    if not yes and not typer.confirm(
        f"Remove these {plural(len(free), 'session')}?", default=False
    ):
        console.print("nothing removed", markup=False)
        return
    removed = 0
    for s in free:
        try:
            library.remove(s.path)
            removed += 1
        except DcafError as exc:  # opened since the listing: left alone
            _error(str(exc))
    console.print(f"removed {plural(removed, 'session')}", markup=False)


def _error(message: str) -> None:
    sys.stderr.write(f"dcaf: error: {message}\n")
