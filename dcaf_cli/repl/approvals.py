"""Asking the user about paused calls: approvals, and arguments the offline model lacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import WordCompleter
from pydantic import TypeAdapter, ValidationError
from rich.console import Console

from dcaf_cli.conversation import Conversation
from dcaf_cli.errors import ToolArgumentError, TurnCancelled
from dcaf_cli.render.text import literal
from dcaf_cli.render.turn import render_error, render_pending
from dcaf_cli.runtime.results import Decision, PendingToolCall

CHOICES = {"y": "yes", "n": "no", "a": "always", "e": "edit"}


class InteractiveDecider:
    """`decide` for `Conversation.send` that asks at the terminal."""

    def __init__(
        self,
        prompt: PromptSession[str],
        console: Console,
        conversation: Conversation,
        *,
        reveal: bool,
    ) -> None:
        self.prompt = prompt
        self.console = console
        self.conversation = conversation
        self.reveal = reveal
        self.before_ask: Callable[[], None] | None = None  # clears the turn's status line

    async def __call__(self, pending: list[PendingToolCall]) -> list[Decision]:
        if self.before_ask is not None:
            self.before_ask()
        decisions = []
        for call in pending:
            self.console.print(render_pending(call, reveal=self.reveal))
            if call.reason == "missing_arguments":
                decisions.append(await self._fill(call))
            else:
                decisions.append(await self._approve(call))
        return decisions

    async def _ask(self, message: str, **kwargs: Any) -> str:
        try:
            answer: str = await self.prompt.prompt_async(message, **kwargs)
        except EOFError:
            # Ctrl-D at a question ends the turn (rolled back), not the REPL.
            raise TurnCancelled("no answer (Ctrl-D)") from None
        return answer.strip()

    def _choices(self) -> dict[str, str]:
        """The answers that can work: a server runs a call only as it proposed it."""
        if self.conversation.accepts_edits:
            return CHOICES
        return {k: v for k, v in CHOICES.items() if v != "edit"}

    async def _approve(self, call: PendingToolCall) -> Decision:
        choices = self._choices()
        completer = WordCompleter(list(choices.values()))
        question = "run it? " + " ".join(f"[{k}]{v[1:]}" for k, v in choices.items()) + ": "
        keys = ", ".join(list(choices)[:-1]) + f" or {list(choices)[-1]}"
        while True:
            answer = (await self._ask(question, completer=completer)).lower()
            choice = _choice(choices, answer)
            if choice == "yes":
                return Decision(call.id, True)
            if choice == "always":
                self.conversation.approve_always(call.name)
                note = (
                    f"{call.name} will run without asking from now on (kept in the file;"
                    " /approvals lists and revokes)"
                )
                self.console.print(literal(note, "dim"))
                return Decision(call.id, True)
            if choice == "no":
                reason = await self._ask("reason, for the model (optional): ")
                return Decision(call.id, False, reason or "the user said no")
            if choice == "edit":
                edited = await self._edit(call)
                if edited is not None:
                    return Decision(call.id, True, input=edited)
                continue
            self.console.print(f"answer {keys} (Ctrl-C cancels the turn)")

    async def _edit(self, call: PendingToolCall) -> dict[str, Any] | None:
        current = json.dumps(call.input, ensure_ascii=False)
        text = await self._ask("arguments (JSON): ", default=current)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self.console.print(render_error(f"not JSON: {exc.msg} at column {exc.colno}"))
            return None
        if not isinstance(value, dict):
            self.console.print(render_error("the arguments must be a JSON object"))
            return None
        return self._validated(call.name, value)

    def _validated(self, name: str, value: dict[str, Any]) -> dict[str, Any] | None:
        tool = next((t for t in self.conversation.agent.tools if t.name == name), None)
        if tool is None:
            return value  # a remote tool: the server validates
        try:
            tool.validate(value)
        except ToolArgumentError as exc:
            self.console.print(render_error(str(exc)))
            return None
        return value

    async def _fill(self, call: PendingToolCall) -> Decision:
        tool = next((t for t in self.conversation.agent.tools if t.name == call.name), None)
        params = {p.name: p for p in tool.params} if tool is not None else {}
        arguments = dict(call.input)
        for name in call.missing:
            param = params.get(name)
            choices = [str(c) for c in param.choices] if param is not None else []
            hint = (
                f" ({'/'.join(choices)})"
                if choices
                else (f" ({param.json_type})" if param and param.json_type else "")
            )
            while True:
                raw = await self._ask(
                    f"{name}{hint}: ", completer=WordCompleter(choices) if choices else None
                )
                if not raw:
                    continue
                value = _typed(raw, param.json_type if param is not None else "")
                problem = _problem(param.annotation if param is not None else None, value)
                if problem is None:
                    break
                self.console.print(render_error(f"{name}: {problem}; try again"))
            arguments[name] = value
        return Decision(call.id, True, input=arguments)


def _problem(annotation: Any, value: Any) -> str | None:
    """Why `value` does not fit the parameter's type (asked again at once), or None."""
    if annotation is None:
        return None  # a remote tool: the server validates
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    except Exception:  # an annotation pydantic cannot build alone: the tool will check
        return None
    return None


def _typed(raw: str, json_type: str) -> Any:
    if json_type == "string":
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _choice(choices: dict[str, str], answer: str) -> str | None:
    """The choice `answer` names: its letter or the start of its word ("y", "ye", "yes").

    Only the first letter would make "actually, no" an "always".
    """
    if not answer:
        return None
    return next((word for word in choices.values() if word.startswith(answer)), None)
