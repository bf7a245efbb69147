"""Drive the real chat loop (`Repl.run()`) with prompt-toolkit pipe input and a buffer console.

How keystrokes reach the prompts (what we found, and why the harness feeds as it does)
-------------------------------------------------------------------------------------
prompt-toolkit keeps the keys it has read past an Enter as *typeahead* for the next prompt
on the same input (`prompt_toolkit.input.typeahead`), so sending a whole script into the
pipe up front does work: 10 runs of a 13-line script with approvals, a Ctrl-C and
slash commands gave byte-identical output (`test_input_sent_up_front_reaches_every_prompt`
keeps that finding honest).

The harness still feeds one entry per prompt, written into the pipe at the moment that
prompt starts (it wraps the PromptSession's `prompt` and `prompt_async`):

* each answer goes to the question it was written for. If the program asks one question
  more or fewer, the test fails right there, with the list of questions asked, instead of
  every later line silently landing on the wrong prompt;
* the test sees which questions were asked (`Run.questions`): "no approval question the
  second time" is an assertion, not a guess;
* no threads and no sleeps: the data is in the pipe before the prompt reads it.

When the script runs out the harness types Ctrl-D: at the main prompt that ends the loop,
at a question it cancels the turn, so a test that asks less than the program wants ends
instead of hanging.

Keys: Enter is `\\r`, Ctrl-C `\\x03`, Ctrl-D `\\x04`, Ctrl-U (erase the line) `\\x15`. An
entry gets an Enter appended unless it already ends with one of those. An entry may be a
function returning the keys: it runs as its prompt starts, between two turns (to change the
file behind the REPL's back, or look at the REPL's state).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import to_plain_text
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from dcaf_cli.cli.chat import ChatSettings, open_conversation
from dcaf_cli.conversation import Conversation
from dcaf_cli.repl.app import Repl, make_prompt_session
from dcaf_cli.repl.switching import SessionSource
from dcaf_cli.runtime.agent import AgentLike
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.store.sessionfile import new_session_file

ENTER, CTRL_C, CTRL_D, CTRL_U = "\r", "\x03", "\x04", "\x15"
WIDTH = 100

Entry = str | Callable[[], str]

_DURATION = re.compile(r"\d+(?:\.\d+)? (?:µs|ms|s)\b")


def keys(entry: str) -> str:
    return entry if entry.endswith((ENTER, CTRL_C, CTRL_D)) else entry + ENTER


def without_durations(text: str) -> str:
    """Tool durations vary from run to run; everything else in the output must not."""
    return _DURATION.sub("<t>", text)


class SizedOutput(DummyOutput):
    """prompt-toolkit's output for tests, with a terminal width of our choosing."""

    def __init__(self, columns: int) -> None:
        self.columns = columns

    def get_size(self) -> Size:
        return Size(rows=24, columns=self.columns)


def buffer_console(width: int = WIDTH) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        color_system=None,
        force_terminal=False,
        force_interactive=False,
        legacy_windows=False,
        _environ={},  # no COLUMNS / NO_COLOR from the environment
    )
    return console, out


@dataclass
class Run:
    """What one `Repl.run()` showed and asked."""

    output: str
    questions: list[str] = field(default_factory=list)  # every prompt, main ones as "› "
    unused: list[Entry] = field(default_factory=list)  # entries no prompt asked for

    @property
    def asked(self) -> list[str]:
        """The questions other than the main prompt."""
        return [q for q in self.questions if q != "› "]


class ScriptedPrompts:
    """Writes the next entry into the pipe each time the PromptSession starts a prompt."""

    def __init__(self, pipe: PipeInput, entries: Sequence[Entry]) -> None:
        self.pipe = pipe
        self.entries = list(entries)
        self.questions: list[str] = []

    def before(self, message: Any) -> None:
        self.questions.append(to_plain_text(message) if message is not None else "")
        entry = self.entries.pop(0) if self.entries else CTRL_D
        self.pipe.send_text(keys(entry() if callable(entry) else entry))

    def install(self, session: PromptSession[str]) -> None:
        prompt, prompt_async = session.prompt, session.prompt_async

        def scripted_prompt(message: Any = None, **kwargs: Any) -> str:
            self.before(message)
            return prompt(message, **kwargs)

        async def scripted_prompt_async(message: Any = None, **kwargs: Any) -> str:
            self.before(message)
            return await prompt_async(message, **kwargs)

        session.prompt = scripted_prompt  # type: ignore[method-assign]
        session.prompt_async = scripted_prompt_async  # type: ignore[method-assign]


def conversation_for(
    agent: str | AgentLike, path: Path | None, *, model: str | None = "offline"
) -> Conversation:
    """A conversation as `dcaf run` builds it: built-in agents by name, or an agent object.
    Without a path it is in memory (`--no-save`)."""
    if isinstance(agent, str):
        settings = ChatSettings(agent=agent, session=path, model=model, no_save=path is None)
        return open_conversation(settings)
    store = SessionStore(path) if path is not None else None
    doc = store.open() if store is not None else new_session_file()
    doc.meta.setdefault("agent", agent.name)
    return Conversation(agent, doc, store)


def run_repl(
    conversation: Conversation,
    entries: Sequence[Entry],
    *,
    reveal: bool = False,
    width: int = WIDTH,
    up_front: bool = False,
    sessions: SessionSource | None = None,
) -> Run:
    """Run the real loop until it ends; entries are fed one per prompt (see the module doc).

    `up_front=True` sends everything into the pipe before the loop starts instead (plus a
    final Ctrl-D), to show that typeahead carries it across prompts.
    """
    console, out = buffer_console(width)
    with create_pipe_input() as pipe:
        session = make_prompt_session(input=pipe, output=DummyOutput())
        scripted = ScriptedPrompts(pipe, [] if up_front else entries)
        if up_front:
            pipe.send_text("".join(keys(e) for e in entries if isinstance(e, str)) + CTRL_D)
            questions: list[str] = []
            prompt, prompt_async = session.prompt, session.prompt_async

            def record(message: Any = None, **kwargs: Any) -> str:
                questions.append(to_plain_text(message))
                return prompt(message, **kwargs)

            async def record_async(message: Any = None, **kwargs: Any) -> str:
                questions.append(to_plain_text(message))
                return await prompt_async(message, **kwargs)

            session.prompt = record  # type: ignore[method-assign]
            session.prompt_async = record_async  # type: ignore[method-assign]
        else:
            scripted.install(session)
            questions = scripted.questions
        Repl(conversation, session, console, reveal=reveal, sessions=sessions).run()
    return Run(out.getvalue(), questions, scripted.entries)


def lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        yield line.rstrip()
