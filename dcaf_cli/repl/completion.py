"""Tab completion: slash commands, tool names, argument names and choices, session keys,
and the names of saved sessions for `/switch`.

The menu shows what each is beside its name: a command's help, a tool's description, a
parameter's type and whether it is required."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from dcaf_cli.tools.tool import Tool

KEY_COMMANDS = ("/get", "/set", "/del", "/session")


class ReplCompleter(Completer):
    def __init__(
        self,
        commands: Sequence[str] | Mapping[str, str],  # names, or names and their help
        tools: Callable[[], Sequence[Tool[..., Any]]],
        session_keys: Callable[[], Iterable[str]],
        session_names: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self.commands = (
            dict(commands) if isinstance(commands, Mapping) else dict.fromkeys(commands, "")
        )
        self.tools = tools
        self.session_keys = session_keys
        self.session_names = session_names

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/"):
            return
        if " " not in text:
            names = {**self.commands, **{f"/{t.name}": t.description for t in self.tools()}}
            yield from _matching(text, names)
            return
        head, _, _ = text.partition(" ")
        word = document.get_word_before_cursor(WORD=True)
        if head in KEY_COMMANDS and text.count(" ") == 1:
            yield from _matching(word, sorted(self.session_keys()))
            return
        if head == "/switch" and text.count(" ") == 1:
            yield from _matching(word, self.session_names())
            return
        tool = next((t for t in self.tools() if f"/{t.name}" == head), None)
        if tool is not None:
            yield from self._arguments(tool, word)

    def _arguments(self, tool: Tool[..., Any], word: str) -> Iterable[Completion]:
        if "=" in word:
            name = word.partition("=")[0]
            param = next((p for p in tool.params if p.name == name), None)
            if param is not None:
                choices = [f"{name}={c}" for c in param.choices] or (
                    [f"{name}=true", f"{name}=false"] if param.json_type == "boolean" else []
                )
                yield from _matching(word, choices)
            return
        yield from _matching(
            word,
            {
                f"{p.name}=": f"{p.json_type or 'any'}{'' if p.required else ', optional'}"
                for p in tool.params
            },
        )


def _matching(prefix: str, candidates: Iterable[str] | Mapping[str, str]) -> Iterable[Completion]:
    about = candidates if isinstance(candidates, Mapping) else {}
    for candidate in candidates:
        if candidate.startswith(prefix) and candidate != prefix:
            yield Completion(
                candidate, start_position=-len(prefix), display_meta=about.get(candidate) or None
            )
