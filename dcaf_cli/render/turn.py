"""One turn on screen: tool calls, the reply, the session diff, where it was saved."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dcaf_cli.render.text import literal, short_json
from dcaf_cli.runtime.results import ExecutedToolCall, PendingToolCall
from dcaf_cli.session.text import visible_controls


def render_arguments(
    arguments: dict[str, object], *, reveal: bool = False, width: int = 60
) -> Text:
    if not reveal:  # the one rule: an argument naming a secret key hides the values beside it
        from dcaf_cli.session.redact import redact_arguments

        arguments = redact_arguments(arguments)
    parts = [
        f"{k}={short_json(v, width=width, reveal=reveal, key=k)}" for k, v in arguments.items()
    ]
    return literal(", ".join(parts))


def render_call_line(name: str, arguments: dict[str, object], *, reveal: bool = False) -> Text:
    """`▸ add_to_cart(item="Widget", quantity=2)`: a call as it starts."""
    return Text.assemble(
        ("▸ ", "cyan"),
        (visible_controls(name), "bold cyan"),  # a model may name anything
        "(",
        render_arguments(arguments, reveal=reveal),
        ")",
    )


def render_tool_call(call: ExecutedToolCall, *, reveal: bool = False) -> RenderableType:
    """`▸ add_to_cart(item="Widget", quantity=2)  0.2 ms` and its result below. A call the
    user rejected did not run: no time, and the reason instead of a result."""
    rejected = is_rejected(call)
    ok = call.error is None
    mark, style = ("▸ ", "cyan") if ok else ("⊘ ", "yellow") if rejected else ("✗ ", "red")
    head = Text.assemble(
        (mark, style),
        (visible_controls(call.name), f"bold {style}"),  # a model may name anything
        "(",
        render_arguments(call.input, reveal=reveal),
        ")",
        ("  not run", "dim") if rejected else (f"  {format_duration(call.duration_ms)}", "dim"),
    )
    body = call.output if ok else (call.error or "failed")
    result = literal(body if reveal else _redact_text(body), "" if ok else style)
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style="dim")
    table.add_column(overflow="fold")
    table.add_row("  ↳", result)
    return Group(head, table)


def is_rejected(call: ExecutedToolCall) -> bool:
    """A call the user (or `--approve no`) decided not to run."""
    return (call.error or "").startswith("rejected: ")


def _redact_text(text: str) -> str:
    from dcaf_cli.session.redact import redact_text

    return redact_text(text)


def format_duration(ms: float) -> str:
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{ms / 1000:.2f} s"


def render_reply(text: str, *, reveal: bool = False, markdown: bool = True) -> RenderableType:
    """The model's reply: Markdown from language models, plain text otherwise (the offline
    model replies with tool output, whose line breaks matter). Control characters are
    made visible first."""
    shown = text if reveal else _redact_text(text)
    if not markdown:
        return literal(shown)
    from rich.markdown import Markdown  # markdown-it costs ~40 ms of start-up: load on use

    return Markdown(visible_controls(shown))


def render_pending(call: PendingToolCall, *, reveal: bool = False) -> RenderableType:
    """The approval panel: the tool, what it does, and the arguments it would get."""
    rows = Table.grid(padding=(0, 1))
    rows.add_column(style="bold", no_wrap=True)
    rows.add_column(overflow="fold")
    rows.add_row("tool", literal(call.name))
    if call.description:
        rows.add_row("what", literal(call.description))
    for key, value in call.input.items():
        rows.add_row(literal(key), literal(short_json(value, width=200, reveal=reveal, key=key)))
    if call.missing:
        rows.add_row("needs", literal(", ".join(call.missing)))
    title = "approve this call?" if call.reason == "approval" else "arguments needed"
    return Panel(rows, title=title, title_align="left", border_style="yellow", expand=False)


def render_status(text: str, *, reveal: bool = False) -> Text:
    """A status line a remote server sent while it works: `… Calling tool: foo`."""
    return Text.assemble(("… ", "dim"), literal(text if reveal else _redact_text(text), "dim"))


def render_saved(path: str, revision: int) -> Text:
    return Text.assemble(
        ("saved ", "dim"), literal(path, "dim"), (f" (revision {revision})", "dim")
    )


def render_secrets_warning(paths: Sequence[str]) -> Text:
    where = ", ".join(paths)
    return Text.assemble(
        ("warning: ", "bold yellow"),
        literal(f"this turn stored what looks like a secret at {where}; "),
        "sessions travel in protocol messages and files — store a reference instead",
    )


def render_error(message: str) -> Text:
    return Text.assemble(("error: ", "bold red"), literal(message))


def render_notice(message: str) -> Text:
    return Text.assemble(("note: ", "bold blue"), literal(message))
