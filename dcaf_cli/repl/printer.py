"""Shows a turn while it runs: a status line while the model thinks or a tool runs, each
tool call as it starts and ends, the reply as it streams.

On a terminal, one transient `Live` region shows what is in progress (the reply so far, or
the tool's call line, with a spinner, the elapsed time and the Ctrl-C hint) and everything
that is done is printed once, for good, with `console.print`. So a turn cancelled
mid-stream leaves its partial reply on screen exactly once. Without a terminal nothing is
live: each call and the reply are printed when they end.
"""

from __future__ import annotations

import time

from rich.console import Console, Group, RenderableType
from rich.constrain import Constrain
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from dcaf_cli.render.turn import render_call_line, render_reply, render_status, render_tool_call
from dcaf_cli.runtime.results import (
    ModelRound,
    StatusUpdate,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnEvent,
)

HINT = "Ctrl-C cancels"


class TurnPrinter:
    """An event sink for `Conversation.send` that prints as the turn goes."""

    def __init__(self, console: Console, *, reveal: bool = False, markdown: bool = True) -> None:
        self.console = console
        self.reveal = reveal
        self.markdown = markdown
        self.outputs: list[str] = []
        self.text = ""
        self.printed_reply = False
        self._live: Live | None = None
        self._status: str | None = None  # "thinking", or the call line of the running tool
        self._call: Text | None = None
        self._since = time.monotonic()
        self._spinner = Spinner("dots", style="cyan")

    def __call__(self, event: TurnEvent) -> None:
        if isinstance(event, TextDelta):
            self._stream(event.text)
        elif isinstance(event, ModelRound):
            self.finish_text()
            self.thinking()
        elif isinstance(event, ToolStarted):
            self.finish_text()
            call = render_call_line(event.name, event.input, reveal=self.reveal)
            self._show(call.plain.removeprefix("▸ "), call)
        elif isinstance(event, ToolFinished):
            self.finish_text()
            self._stop()
            self.outputs.append(event.call.output)
            self.console.print(render_tool_call(event.call, reveal=self.reveal))
        elif isinstance(event, StatusUpdate):  # a remote server's `intermittent_update`
            self.finish_text()
            self.console.print(render_status(event.text, reveal=self.reveal))

    # -- the live region -------------------------------------------------------------------

    @property
    def _interactive(self) -> bool:
        """A terminal a person watches (a recording for a picture is not one)."""
        return self.console.is_terminal and self.console.is_interactive

    def thinking(self) -> None:
        """The model is at work (a turn begins, or a new model round)."""
        self._show("thinking")

    def pause(self) -> None:
        """Leave the screen to a question (an approval): finish the text, drop the status."""
        self.finish_text()
        self._stop()

    def _show(self, status: str, call: Text | None = None) -> None:
        self._status, self._call, self._since = status, call, time.monotonic()
        self._start()

    def _start(self) -> None:
        if self._live is None and self._interactive:
            self._live = Live(
                get_renderable=self._view,
                console=self.console,
                refresh_per_second=10,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def _stop(self) -> None:
        # Stop first, then forget: the last refresh must draw what is on screen, or the
        # erasing that follows it would erase the wrong number of lines.
        if self._live is not None:
            self._live.stop()
            self._live = None
        self._status = self._call = None

    def _view(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self.text:
            parts.append(self._tail())
        if self._call is not None:
            parts.append(self._call)
        if self._status is not None and not self.text:
            elapsed = time.monotonic() - self._since
            doing = "thinking…" if self._call is None else f"running {self._status}…"
            self._spinner.update(text=Text(f"{doing} {elapsed:.1f} s · {HINT}", style="dim"))
            parts.append(self._spinner)
        return Group(*parts)

    def _tail(self) -> RenderableType:
        """The reply so far; only its last lines when it is taller than the screen (the
        rest is printed, whole, when it ends), so the region can always be erased."""
        room = max(self.console.size.height - 4, 3)
        lines = self.text.splitlines()
        shown = "\n".join(lines[-room:]) if len(lines) > room else self.text
        # Two columns kept free: Markdown pads its lines to the width, and a `^C` the
        # terminal echoes after a full line would wrap onto a line the erase cannot reach.
        return Constrain(
            render_reply(shown, reveal=self.reveal, markdown=self.markdown),
            width=max(self.console.width - 2, 10),
        )

    # -- the reply ---------------------------------------------------------------------------

    def _stream(self, delta: str) -> None:
        self.text += delta
        self._status = self._call = None  # the model is writing: no more "thinking"
        if self._interactive and self.markdown:
            self._start()  # plain text (the offline model) arrives whole: printed as it ends

    def finish_text(self) -> None:
        """End the reply being streamed and print it, once.

        A reply that only repeats the output of the tools just shown (what the offline
        model says) is not printed twice.
        """
        if self._live is not None and self._status is None:
            self._stop()
        text, self.text = self.text.strip(), ""
        if text and text != "\n".join(self.outputs).strip():
            self.console.print(render_reply(text, reveal=self.reveal, markdown=self.markdown))
        self.printed_reply = self.printed_reply or bool(text)
