"""The chat loop: read a line, run it (a slash command or a turn), show what happened.

Everything it touches is passed in (the prompt session, the console, the conversation),
so tests drive the real loop with prompt-toolkit pipe input and a buffer console. The loop
survives everything but an explicit exit: a failed turn is one line, Ctrl-C cancels the
turn (rolled back, file untouched) or clears the line, Ctrl-D exits (asking first when
the last turns could not be saved).
"""

from __future__ import annotations

from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from rich.console import Console
from rich.text import Text

from dcaf_cli.conversation import Conversation, TurnReport
from dcaf_cli.errors import CredentialsError, DcafError, TurnCancelled, UsageError
from dcaf_cli.render.text import literal
from dcaf_cli.render.turn import render_notice
from dcaf_cli.repl.approvals import InteractiveDecider
from dcaf_cli.repl.commands import COMMANDS, run_command
from dcaf_cli.repl.completion import ReplCompleter
from dcaf_cli.repl.switching import SessionSource
from dcaf_cli.repl.toolbar import ToolbarFacts, toolbar_text
from dcaf_cli.repl.view import TurnView, debug_traceback
from dcaf_cli.runtime.agent import Agent
from dcaf_cli.runtime.runner import run_sync
from dcaf_cli.session.text import plural
from dcaf_cli.tools.slashcall import split_slash

# Words that mean a command when typed alone (a turn would cost a model call).
BARE_COMMANDS = {"exit": "/exit", "quit": "/exit", "help": "/help"}


def key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


class Repl:
    def __init__(
        self,
        conversation: Conversation,
        prompt: PromptSession[str],
        console: Console,
        *,
        reveal: bool = False,
        debug: bool = False,
        sessions: SessionSource | None = None,
    ) -> None:
        self.conversation = conversation
        self.prompt = prompt
        self.console = console
        self.reveal = reveal
        self.debug = debug
        self.sessions = sessions
        prompt.completer = ReplCompleter(
            {name: command.help for name, command in COMMANDS.items()},
            lambda: self.conversation.agent.tools,
            self._session_keys,
            self._session_names,
        )
        prompt.key_bindings = key_bindings()
        prompt.bottom_toolbar = self.toolbar
        prompt.complete_while_typing = False
        self.decider = InteractiveDecider(prompt, console, conversation, reveal=reveal)
        self.view = TurnView(console, conversation, reveal=reveal, debug=debug)

    def use(self, conversation: Conversation) -> None:
        """Carry on with another conversation (`/switch`); the old one is closed."""
        old, self.conversation = self.conversation, conversation
        self.decider = InteractiveDecider(
            self.prompt, self.console, conversation, reveal=self.reveal
        )
        self.view = TurnView(self.console, conversation, reveal=self.reveal, debug=self.debug)
        old.close()

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        self.greet()
        while True:
            try:
                text = self.prompt.prompt(FormattedText([("bold", "› ")]))
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                if self.may_leave():
                    break
                continue
            if not text.strip():
                continue
            if not self.handle(text) and self.may_leave():
                break
        self.goodbye()

    def may_leave(self) -> bool:
        """True unless turns would be lost and the user chooses to stay: after a failed
        save the file lacks the last turns, which only this process still holds."""
        c = self.conversation
        if not c.unsaved or c.path is None:
            return True
        self.console.print(
            Text(
                f"{c.path} does not have the last turns: saving them failed. Keep them with "
                "/save FILE (another file), or leave and lose them.",
                style="yellow",
            )
        )
        try:
            answer = self.prompt.prompt("leave without saving? [y/N] ")
        except EOFError:  # Ctrl-D again (or the end of piped input): leave
            return True
        except KeyboardInterrupt:
            return False
        return answer.strip().lower() in ("y", "yes")

    def handle(self, text: str) -> bool:
        """Run one line of input; False to end the loop. Only an explicit exit ends it: an
        unexpected error (a bug) is one line, and the loop goes on."""
        try:
            return self._handle(text)
        except Exception as exc:
            self.error(
                f"{type(exc).__name__}: {exc} (this is a bug in dcaf; nothing was saved"
                " by this line; run with --debug for details)"
            )
            if self.debug:
                self.console.print(debug_traceback(exc))
            return True

    def _handle(self, text: str) -> bool:
        bare = BARE_COMMANDS.get(text.strip().lower())
        if bare is not None:  # what people type in ipython, pgcli or `llm chat`: not a turn
            text = bare
        if text.lstrip().startswith("/"):
            result = run_command(self, text.strip())
            if result is not None:
                return result
            parts = split_slash(text)
            names = {t.name for t in self.conversation.agent.tools}
            if parts is None or parts[0] not in names:
                word = text.split(maxsplit=1)[0]
                self.error(f"unknown command {word}; /help lists the commands, /tools the tools")
                return True
        self.turn(text)
        return True

    def turn(self, text: str) -> None:
        printer = self.view.printer()
        self.decider.before_ask = printer.pause
        try:
            printer.thinking()
            report = run_sync(self.conversation.send(text, self.decider, printer))
        except (KeyboardInterrupt, TurnCancelled):
            printer.pause()  # the partial reply, printed once
            self.console.print(
                Text("turn cancelled: nothing changed, nothing saved", style="yellow")
            )
            return
        finally:
            self.decider.before_ask = None
        printer.pause()
        self.view.show_turn(report, printer)

    # -- output --------------------------------------------------------------------------

    def show_outcome(self, report: TurnReport) -> None:
        self.view.show_outcome(report)

    def error(self, message: str) -> None:
        self.view.error(message)

    def greet(self) -> None:
        c = self.conversation
        where = str(c.path) if c.path else "an in-memory session (/save FILE keeps it)"
        self.console.print(
            Text.assemble(
                ("dcaf", "bold"),
                " · ",
                literal(c.agent.name, "cyan"),
                " · ",
                literal(c.agent.model_name),
                " · ",
                literal(where),
                style="",
            )
        )
        if c.doc.notice:
            self.console.print(render_notice(c.doc.notice))
        tools = ", ".join(t.name for t in c.agent.tools[:8])
        self.console.print(
            Text(
                f"{plural(len(c.session), 'key')} · {plural(c.turns, 'turn')} · "
                f"tools: {tools or '-'} · "
                "/help for commands",
                style="dim",
            )
        )

    def goodbye(self) -> None:
        c = self.conversation
        if c.unsaved and c.path is None:
            self.console.print(
                Text(
                    "the session was not saved (--no-save); /save FILE keeps one next time",
                    style="yellow",
                )
            )

    def _session_names(self) -> list[str]:
        """The saved sessions, most recent first (for `/switch` NAME completion)."""
        if self.sessions is None:
            return []
        return [s.name for s in self.sessions.library.scan().sessions]

    def _session_keys(self) -> list[str]:
        return self.conversation.session.keys()

    def toolbar(self) -> FormattedText:
        c = self.conversation
        facts = ToolbarFacts(
            path=c.path,
            revision=c.revision,
            turns=c.turns,
            model=c.agent.model_name,
            always=sorted(c.always_approve),
            unsaved=c.unsaved and c.path is not None,
        )
        return FormattedText([("", toolbar_text(facts, self._width()))])

    def _width(self) -> int:
        """The terminal's width (80 when the output cannot tell)."""
        try:
            return self.prompt.output.get_size().columns or 80
        except (OSError, ValueError):  # not a terminal after all
            return 80

    def switch_model(self, spec: str) -> None:
        agent = self.conversation.agent
        if not isinstance(agent, Agent):
            raise DcafError(f"{agent.name} does not take a model")
        from dcaf_cli.models import resolve_model

        try:
            model = resolve_model(spec)
        except CredentialsError as exc:  # no --api-key here: the advice says what to do
            raise UsageError(exc.in_repl()) from None
        check = getattr(model, "check_reachable", None)
        if spec.startswith("ollama:") and check is not None:
            check()  # a local server that is not running: say so now
        agent.use_model(model)
        self.conversation.doc.meta["model"] = spec


def make_prompt_session(**kwargs: Any) -> PromptSession[str]:
    return PromptSession(multiline=False, enable_history_search=True, **kwargs)
