"""Shows a turn while it runs: each tool call as it finishes, the reply as it streams."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.live import Live

from dcaf_cli.render.turn import render_reply, render_tool_call
from dcaf_cli.runtime.results import ModelRound, TextDelta, ToolFinished, ToolStarted, TurnEvent


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

    def __call__(self, event: TurnEvent) -> None:
        if isinstance(event, TextDelta):
            self._stream(event.text)
        elif isinstance(event, ModelRound | ToolStarted):
            self.finish_text()
        elif isinstance(event, ToolFinished):
            self.finish_text()
            self.outputs.append(event.call.output)
            self.console.print(render_tool_call(event.call, reveal=self.reveal))

    def _render(self) -> RenderableType:
        return render_reply(self.text, reveal=self.reveal, markdown=self.markdown)

    def _stream(self, delta: str) -> None:
        self.text += delta
        if not self.console.is_terminal or not self.markdown:
            # Nothing live to update, or plain text that arrives whole (the offline model):
            # the reply is printed when it ends.
            return
        if self._live is None:
            self._live = Live(
                self._render(),
                console=self.console,
                refresh_per_second=12,
                transient=False,
                vertical_overflow="visible",
            )
            self._live.start()
        else:
            self._live.update(self._render())

    def finish_text(self) -> None:
        """End the reply being streamed, leaving it on screen.

        A reply that only repeats the output of the tools just shown (what the offline
        model says) is not printed twice.
        """
        text = self.text.strip()
        if self._live is not None:
            self._live.update(self._render())
            self._live.stop()
            self._live = None
        elif text and text != "\n".join(self.outputs).strip():
            self.console.print(self._render())
        self.printed_reply = self.printed_reply or bool(text)
        self.text = ""
