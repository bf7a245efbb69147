"""Printing the outcome of a turn: shared by the REPL and scripted `dcaf run`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from dcaf_cli.session.redact import redact_message

if TYPE_CHECKING:
    from rich.traceback import Traceback
from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import SessionLockedError
from dcaf_cli.render.diff import render_changes
from dcaf_cli.render.text import literal
from dcaf_cli.render.turn import (
    render_error,
    render_notice,
    render_reply,
    render_saved,
    render_secrets_warning,
)
from dcaf_cli.repl.printer import TurnPrinter


class TurnView:
    def __init__(
        self,
        console: Console,
        conversation: Conversation,
        *,
        reveal: bool = False,
        debug: bool = False,
        err: Console | None = None,
    ) -> None:
        self.console = console
        self.conversation = conversation
        self.reveal = reveal
        self.debug = debug
        self.err = err  # scripted runs: errors go to stderr, one line each

    @property
    def markdown(self) -> bool:
        """Replies are Markdown, except the offline model's and custom functions' plain text."""
        name = self.conversation.agent.model_name
        return not (name == "offline" or name.startswith("function:"))

    def printer(self) -> TurnPrinter:
        return TurnPrinter(self.console, reveal=self.reveal, markdown=self.markdown)

    def show_turn(self, report: TurnReport, printer: TurnPrinter) -> None:
        """After a turn: the reply if streaming did not show it, then the outcome."""
        printer.finish_text()
        # A direct `/tool` call's reply is the output just shown under the call: once is enough.
        repeats_outputs = report.text.strip() == "\n".join(printer.outputs).strip()
        if report.ok and report.text.strip() and not printer.printed_reply and not repeats_outputs:
            self.console.print(
                render_reply(report.text, reveal=self.reveal, markdown=self.markdown)
            )
        self.show_outcome(report)

    def show_outcome(self, report: TurnReport) -> None:
        """The error, or the notice, the session diff, a secrets warning and where it was saved."""
        if report.error is not None:
            self.error(f"{report.error} (the turn was rolled back)")
            if self.debug and report.exception is not None:
                self.console.print(debug_traceback(report.exception))
            return
        if report.notice:
            self.console.print(render_notice(report.notice))
        if report.changes or report.turn is not None:
            self.console.print(render_changes(report.changes, reveal=self.reveal))
        if report.secrets:
            self.console.print(render_secrets_warning(report.secrets))
        self._show_saved(report)

    def _show_saved(self, report: TurnReport) -> None:
        path = self.conversation.path
        if report.save_error is not None:
            if self.err is not None:  # scripted: the process ends, and the store said it all
                self.error(str(report.save_error))
            elif isinstance(report.save_error, SessionLockedError):
                # The store says what to do; name the REPL commands that do it.
                self.error(f"{report.save_error} (/reload or /save FILE)")
            else:
                self.error(
                    f"{report.save_error}; the turn is kept in memory and saved with the next"
                    " one, or now with /save FILE"
                )
        elif report.revision is not None and path is not None:
            self.console.print(render_saved(str(path), report.revision))
        elif path is None and (report.changes or report.turn is not None):
            keep = "--session FILE" if self.err is not None else "/save FILE"  # scripted: no /save
            self.console.print(Text(f"not saved: no session file ({keep} keeps it)", style="dim"))

    def error(self, message: str) -> None:
        message = redact_message(message)  # a server may quote the key or URL it refused
        if self.err is None:
            self.console.print(render_error(message))
        else:
            self.err.print(Text("dcaf: error: ") + literal(message), soft_wrap=True)


def debug_traceback(exc: BaseException) -> Traceback:
    """The traceback `--debug` shows, with credentials masked in its messages (a server's
    401 reply may quote the key it refused)."""
    from rich.traceback import Traceback  # only for --debug: it is slow to import

    shown = Traceback.from_exception(type(exc), exc, exc.__traceback__)
    for stack in shown.trace.stacks:
        stack.exc_value = redact_message(stack.exc_value)
    return shown
