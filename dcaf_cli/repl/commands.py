"""Slash commands: a table of small handlers. Each takes what it needs of the REPL (a
`ReplContext`) and the text after the command, prints what it has to say, and returns False
only to end the loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import DcafError, UsageError
from dcaf_cli.render.diff import render_changes
from dcaf_cli.render.session import render_log, render_session_tree
from dcaf_cli.render.text import literal, short_json
from dcaf_cli.repl.switching import SessionSource, sessions_command, switch_command
from dcaf_cli.session.diff import diff_sessions
from dcaf_cli.session.keypath import format_key_path, lookup
from dcaf_cli.store import history
from dcaf_cli.store.records import complete_records
from dcaf_cli.tools.slashcall import parse_value


class ReplContext(Protocol):
    """What a slash command may use of the loop that runs it (`repl.app.Repl` is one)."""

    conversation: Conversation
    console: Console
    reveal: bool

    def error(self, message: str) -> None: ...

    def show_outcome(self, report: TurnReport) -> None: ...

    def switch_model(self, spec: str) -> None: ...

    sessions: SessionSource | None

    def use(self, conversation: Conversation) -> None: ...

    def greet(self) -> None: ...


Handler = Callable[[ReplContext, str], bool]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str
    help: str
    handler: Handler


def _help(repl: ReplContext, arg: str) -> bool:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for command in COMMANDS.values():
        table.add_row(f"{command.name} {command.args}".strip(), command.help)
    table.add_row("/TOOL k=v …", "call a tool directly (positional values work too): see /tools")
    repl.console.print(table)
    repl.console.print(
        Text(
            "Tab completes · Esc Enter for a new line · Ctrl-C cancels a turn or clears the line · "
            "Ctrl-D exits",
            style="dim",
        )
    )
    return True


def _tools(repl: ReplContext, arg: str) -> bool:
    tools = repl.conversation.agent.tools
    if not tools:
        repl.console.print(Text("this agent has no tools of its own", style="dim"))
        return True
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("tool", "arguments", "approval", "description"):
        table.add_column(column, overflow="fold")
    for tool in tools:
        params = " ".join(f"{p.name}{'' if p.required else '?'}" for p in tool.params)
        table.add_row(
            literal(tool.name),
            literal(params or "-"),
            "asks" if tool.requires_approval else "",
            literal(tool.description),
        )
    repl.console.print(table)
    return True


def _session(repl: ReplContext, arg: str) -> bool:
    data = repl.conversation.session.data_view()
    if arg.strip():
        where, value = lookup(data, arg.strip())
        shown = {format_key_path(where): value}
        repl.console.print(render_session_tree(shown, reveal=repl.reveal))
    else:
        repl.console.print(render_session_tree(data, reveal=repl.reveal))
    return True


def _diff(repl: ReplContext, arg: str) -> bool:
    doc = repl.conversation.doc
    if not doc.turns:
        repl.console.print(Text("no turns yet", style="dim"))
        return True
    n = int(arg) if arg.strip().isdigit() else int(doc.turns[-1]["n"])
    numbers = [int(t["n"]) for t in doc.turns]
    if n not in numbers:
        raise UsageError(f"there is no turn {n}; turns are {numbers[0]}..{numbers[-1]}")
    index = numbers.index(n)
    before = (
        history.session_at_turn(doc, numbers[index - 1])
        if index
        else history.session_at_turn(doc, 0)
    )
    after = history.session_at_turn(doc, n)
    repl.console.print(Text(f"turn {n}", style="bold"))
    repl.console.print(render_changes(diff_sessions(before, after), reveal=repl.reveal))
    return True


def _turn_count(command: str, arg: str, default: int) -> int:
    """The N of `/log N` and `/undo N`: a number of turns, 1 or more."""
    text = arg.strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise UsageError(
            f"usage: {command} [N], where N is a number of turns, 1 or more (got {text!r})"
        )
    return int(text)


def _log(repl: ReplContext, arg: str) -> bool:
    turns = complete_records(repl.conversation.doc)
    last = _turn_count("/log", arg, len(turns))
    repl.console.print(render_log(turns[-last:] if last else []))
    return True


def _undo(repl: ReplContext, arg: str) -> bool:
    n = _turn_count("/undo", arg, 1)
    numbers = ", ".join(str(t["n"]) for t in repl.conversation.doc.turns[-n:])
    report = repl.conversation.undo(n)
    repl.console.print(literal(f"undid turn{'s' if n != 1 else ''} {numbers}", "bold"))
    repl.show_outcome(report)
    return True


def _get(repl: ReplContext, arg: str) -> bool:
    if not arg.strip():
        raise UsageError("usage: /get KEY", hint="KEY is a key or a path: cart, cart[0].item")
    where, value = lookup(repl.conversation.session.data_view(), arg.strip())
    key = where[-1] if isinstance(where[-1], str) else None
    repl.console.print(literal(short_json(value, width=10_000, reveal=repl.reveal, key=key)))
    return True


def _set(repl: ReplContext, arg: str) -> bool:
    key, _, raw = arg.strip().partition(" ")
    if not key or not raw:
        raise UsageError("usage: /set KEY VALUE", hint="VALUE is JSON where it parses, else text")
    report = repl.conversation.edit(f"/set {key} {raw}", key, parse_value(raw.strip()))
    repl.show_outcome(report)
    return True


def _del(repl: ReplContext, arg: str) -> bool:
    key = arg.strip()
    if not key:
        raise UsageError("usage: /del KEY", hint="KEY is a key or a path: cart, cart[0]")
    repl.show_outcome(repl.conversation.edit(f"/del {key}", key, delete=True))
    return True


def _model(repl: ReplContext, arg: str) -> bool:
    spec = arg.strip()
    if spec:
        repl.switch_model(spec)
    repl.console.print(literal(f"model: {repl.conversation.agent.model_name}"))
    return True


def _clear(repl: ReplContext, arg: str) -> bool:
    repl.conversation.clear_messages()
    repl.console.print(
        Text(
            "conversation cleared; the session data is kept (it is saved with the next turn)",
            style="dim",
        )
    )
    return True


def _save(repl: ReplContext, arg: str) -> bool:
    if not arg.strip():
        raise UsageError("usage: /save FILE")
    repl.show_outcome(repl.conversation.save_as(Path(arg.strip()).expanduser()))
    return True


def _reload(repl: ReplContext, arg: str) -> bool:
    repl.conversation.reload()
    repl.console.print(literal(f"reloaded (revision {repl.conversation.revision})", "dim"))
    return True


def _approvals(repl: ReplContext, arg: str) -> bool:
    words = arg.split()
    if words[:1] == ["revoke"] and len(words) > 1:
        everything = words[1:] == ["all"]
        gone, report = repl.conversation.revoke_approvals(words[1:], everything=everything)
        if gone:
            repl.console.print(literal(f"revoked: {', '.join(gone)} (asks again)", "bold"))
            repl.show_outcome(report)
        else:
            repl.console.print(Text("there were no standing approvals", style="dim"))
        return True
    if words:
        raise UsageError("usage: /approvals, or /approvals revoke TOOL|all")
    standing = sorted(repl.conversation.always_approve)
    if not standing:
        repl.console.print(Text("no standing approvals: every call that needs one asks", "dim"))
    else:
        repl.console.print(literal(f"run without asking: {', '.join(standing)}"))
        repl.console.print(Text("/approvals revoke TOOL (or all) makes them ask again", "dim"))
    return True


def _exit(repl: ReplContext, arg: str) -> bool:
    return False


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("/help", "", "this list", _help),
        Command("/tools", "", "the agent's tools and their arguments", _tools),
        Command("/session", "[KEY]", "the session data (or one value) as a tree", _session),
        Command("/diff", "[TURN]", "what a turn changed (default: the last)", _diff),
        Command("/log", "[N]", "the last N turns (default all): input, tools, changes", _log),
        Command("/undo", "[N]", "reverse the last N turns (session and conversation)", _undo),
        Command("/get", "KEY", "show one value (KEY may be a path: cart[0].item)", _get),
        Command("/set", "KEY VALUE", "set a value (JSON where it parses, else text)", _set),
        Command("/del", "KEY", "delete a key or a list item (cart[0])", _del),
        Command("/approvals", "[revoke T|all]", "standing approvals; revoke them", _approvals),
        Command("/model", "[SPEC]", "show or switch the model (offline, openai:…, …)", _model),
        Command("/clear", "", "forget the conversation, keep the session data", _clear),
        Command("/save", "FILE", "write to FILE and keep using it", _save),
        Command("/sessions", "", "the saved sessions of the sessions folder", sessions_command),
        Command("/switch", "NAME", "save, and continue the session NAME instead", switch_command),
        Command("/reload", "", "drop unsaved changes and read the file again", _reload),
        Command("/exit", "", "leave (Ctrl-D too)", _exit),
        Command("/quit", "", "leave", _exit),
    )
}


def run_command(repl: ReplContext, text: str) -> bool | None:
    """Run a slash command; None when `text` is not one (it may be a tool call)."""
    name, _, arg = text.strip().partition(" ")
    command = COMMANDS.get(name)
    if command is None:
        return None
    try:
        return command.handler(repl, arg)
    except (DcafError, ValueError) as exc:
        repl.error(str(exc))
        return True
