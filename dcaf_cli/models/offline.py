"""`offline`: the embedded model. Deterministic, no key, no network.

How it answers, in order:

1. After tools ran, the reply is their output (errors included), one per line.
2. `/tool_name key=value ...` (or positional values) calls that tool. The runtime handles
   this form before any model is asked, so it works under every model; the offline model
   understands it too, for completeness.
3. Free text is matched to the tool whose name, description, parameter names and choices
   share the most words with it; ties go to the call missing the fewest required
   arguments ("what's in my cart" is view_cart, not an empty add_to_cart), then to the
   tool listed first. Arguments are filled by type: numbers into numeric parameters in
   order, words that are choices of a `Literal`/`Enum` parameter into it, quoted text and
   the remaining words (numbers no numeric parameter took among them) into string
   parameters; `X is Y`, `X = Y` and `X to Y` split two of them at the separator
   ("favorite color is dark blue"). A plural noun after a count other than 1 is made
   singular ("2 widgets" -> "widget"). If a required argument is still missing, the call
   is sent anyway with `ask_missing`, and the runtime asks the user.
4. Anything else gets a short list of what it can do.

Words are Unicode words (`crème brûlée`, `🍕`), and a request of several lines (a pasted
list) is one request per line: a call for each line that names a tool.
"""

from __future__ import annotations

import functools
import re
import shlex
from typing import Any

from dcaf_cli.models.base import (
    NOT_RUN,
    Message,
    ModelOptions,
    ModelReply,
    ModelRequest,
    TextSink,
    ToolCall,
    ToolSpec,
)
from dcaf_cli.tools.slashcall import parse_slash_call, split_slash

_STOP = """a an the to of in on for my me i please can could would you it is are be this that
    and or with from at by as what whats what's show tell give some any do does want like
    now then there here your our we us all"""
STOPWORDS = frozenset(_STOP.split())
# Words in any script, numbers (a version like 1.4.2 stays one word), quoted text, `=`,
# and runs of symbols such as emoji (they name things too: "3 🍕").
_WORD = re.compile(
    r"[^\W\d_][\w'-]*|-?\d+(?:\.\d+)*|\"[^\"]*\"|'[^']*'|=|[^\w\s\"'=.,;:!?()\[\]{}]+"
)
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_COUNTED_PARTS = re.compile(r"\s+(?:and|&|,)\s+(?=-?\d)|,\s*(?=-?\d)")  # "..., and 2 more"
_SEPARATORS = frozenset({"is", "=", "to"})  # `X is Y`: X and Y fill two string slots


def _norm(word: str) -> str:
    word = word.lower().strip("'\"")
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _vocabulary(spec: ToolSpec) -> frozenset[str]:
    """The words that name a tool: from its name, description, parameters and their
    choices (remembered: a model call asks for every tool's, every turn)."""
    properties = spec.parameters.get("properties", {})
    choices = tuple((p, tuple(str(c) for c in v.get("enum", []))) for p, v in properties.items())
    return _words_of(spec.name, spec.description, choices)


@functools.lru_cache(maxsize=1024)
def _words_of(
    name: str, description: str, choices: tuple[tuple[str, tuple[str, ...]], ...]
) -> frozenset[str]:
    words = set(re.split(r"[_\W]+", name.lower()))
    words |= {_norm(w) for w in re.findall(r"[^\W\d_]+", description)}
    for pname, enum in choices:
        words |= set(re.split(r"[_\W]+", pname.lower()))
        words |= {_norm(c) for c in enum}
    return frozenset({_norm(w) for w in words if w} - STOPWORDS)


class OfflineModel:
    """The embedded model (see the module docstring for exactly what it does)."""

    name = "offline"

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        reply = self.reply(request)
        if on_text is not None and reply.text:
            on_text(reply.text)
        return reply

    def reply(self, request: ModelRequest) -> ModelReply:
        last = request.messages[-1] if request.messages else Message("user", "")
        if last.role == "tool":
            return ModelReply(text=_tool_outputs(request.messages))
        lines = [line.strip() for line in last.content.splitlines() if line.strip()]
        if len(lines) > 1:
            return self._each_line(lines, request.tools)
        return self._one(last.content.strip(), request.tools)

    def _one(self, text: str, tools: list[ToolSpec]) -> ModelReply:
        if split_slash(text):
            return self._slash(text, tools)
        return self._free_text(text, tools)

    def _each_line(self, lines: list[str], tools: list[ToolSpec]) -> ModelReply:
        """A pasted list: each line is its own request; the lines that name no tool are
        left out (and if none does, the menu)."""
        replies = [self._one(line, tools) for line in lines]
        calls = [
            ToolCall(f"offline-{n}", call.name, call.arguments)
            for n, call in enumerate((c for r in replies for c in r.tool_calls), 1)
        ]
        if not calls:
            return ModelReply(text=_menu(tools))
        return ModelReply(tool_calls=calls, ask_missing=any(r.ask_missing for r in replies))

    def _slash(self, text: str, tools: list[ToolSpec]) -> ModelReply:
        name = (split_slash(text) or ("", ""))[0]
        spec = next((t for t in tools if t.name == name), None)
        if spec is None:
            return ModelReply(text=f"There is no tool named {name!r}. {_menu(tools)}")
        call = parse_slash_call(text, _param_types(spec))
        return ModelReply(tool_calls=[ToolCall("offline-1", spec.name, call.arguments)])

    def _free_text(self, text: str, tools: list[ToolSpec]) -> ModelReply:
        """One call, or one per counted part: "add 3 pizzas and 2 crème brûlée" is two
        calls of the tool the first part names."""
        first, *more = _COUNTED_PARTS.split(text)
        reply = self._best_call(first, tools)
        if not more or len(reply.tool_calls) != 1:
            return reply
        spec = next(t for t in tools if t.name == reply.tool_calls[0].name)
        if "integer" not in _param_types(spec).values():
            return self._best_call(text, tools)  # nothing is counted: the text is one request
        calls = [reply.tool_calls[0]]
        for n, part in enumerate(more, 2):
            calls.append(
                ToolCall(f"offline-{n}", spec.name, fill_arguments(spec, _WORD.findall(part)))
            )
        missing = any(
            r not in c.arguments for c in calls for r in spec.parameters.get("required", [])
        )
        return ModelReply(tool_calls=calls, ask_missing=missing)

    def _best_call(self, text: str, tools: list[ToolSpec]) -> ModelReply:
        words = _WORD.findall(text)
        wanted = {_norm(w) for w in words} - STOPWORDS
        # Most shared words wins; among equals, the call missing fewest required arguments
        # ("what's in my cart" is view_cart, not an empty add_to_cart); then list order.
        best: tuple[int, int, int, ToolSpec, dict[str, Any]] | None = None
        scores = [len(wanted & _vocabulary(spec)) for spec in tools]
        top = max(scores, default=0)
        for index, spec in enumerate(tools):
            score = scores[index]
            if not score or score < top:  # only the best scores can win: fill only theirs
                continue
            arguments = fill_arguments(spec, list(words))
            missing = sum(r not in arguments for r in spec.parameters.get("required", []))
            key = (-score, missing, index)
            if best is None or key < best[:3]:
                best = (*key, spec, arguments)
        if best is None:
            return ModelReply(text=_menu(tools))
        missing, spec, arguments = best[1], best[3], best[4]
        call = ToolCall("offline-1", spec.name, arguments)
        return ModelReply(tool_calls=[call], ask_missing=missing > 0)


def _param_types(spec: ToolSpec) -> dict[str, str]:
    props: dict[str, Any] = spec.parameters.get("properties", {})
    return {name: _json_type(prop) for name, prop in props.items()}


def _json_type(prop: dict[str, Any]) -> str:
    if "type" in prop:
        return str(prop["type"])
    for option in prop.get("anyOf", []):
        if option.get("type") not in (None, "null"):
            return str(option["type"])
    return ""


def fill_arguments(spec: ToolSpec, words: list[str]) -> dict[str, Any]:
    """Fill a tool's parameters from the words of a request (see the module docstring)."""
    props: dict[str, Any] = spec.parameters.get("properties", {})
    tool_words = _name_words(spec.name)
    arguments: dict[str, Any] = {}
    used: set[int] = set()
    # Choices first: a word that is a Literal/Enum value picks that parameter.
    for pname, prop in props.items():
        choices = {str(c).lower(): c for c in prop.get("enum", [])}
        for i, w in enumerate(words):
            if i not in used and w.lower().strip("'\"") in choices:
                arguments[pname] = choices[w.lower().strip("'\"")]
                used.add(i)
                break
    _fill_numbers(props, words, arguments, used)
    _fill_strings(props, words, arguments, used, tool_words)
    return arguments


@functools.lru_cache(maxsize=1024)
def _name_words(name: str) -> frozenset[str]:
    """The words of a tool's name, as written and normalised: not argument values."""
    words = re.split(r"[_\W]+", name.lower())
    return frozenset(words) | {_norm(w) for w in words}


def _fill_numbers(
    props: dict[str, Any], words: list[str], arguments: dict[str, Any], used: set[int]
) -> None:
    numeric = [
        p
        for p, prop in props.items()
        if _json_type(prop) in ("integer", "number") and p not in arguments
    ]
    numbers = [i for i, w in enumerate(words) if _NUMBER.match(w) and i not in used]
    for pname, i in zip(numeric, numbers, strict=False):
        is_int = _json_type(props[pname]) == "integer"
        arguments[pname] = int(float(words[i])) if is_int else float(words[i])
        used.add(i)
        # "2 widgets", "3 🍕 pizzas": the counted noun is singular as an item name.
        noun = next((j for j in range(i + 1, len(words)) if words[j][:1].isalpha()), None)
        if noun is not None and float(words[i]) != 1:
            words[noun] = _singular(words[noun])


def _singular(word: str) -> str:
    if len(word) > 3 and word.lower().endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.lower().endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]  # glasses, boxes, watches
    if len(word) > 3 and word.lower().endswith("s") and not word.lower().endswith("ss"):
        return word[:-1]
    return word


def _fill_strings(
    props: dict[str, Any],
    words: list[str],
    arguments: dict[str, Any],
    used: set[int],
    tool_words: frozenset[str],
) -> None:
    slots = [
        p
        for p, prop in props.items()
        if _json_type(prop) == "string" and p not in arguments and "enum" not in prop
    ]
    if not slots:
        return
    quoted = [shlex.split(w)[0] for i, w in enumerate(words) if i not in used and w[:1] in "'\""]
    # Numbers no numeric parameter took are words like any other ("zip to 02134").
    names = {p.lower() for p in props}
    rest_at = [
        i
        for i, w in enumerate(words)
        if i not in used
        and w[:1] not in "'\""
        and w != "="
        and w.lower() not in STOPWORDS
        and w.lower() not in tool_words
        and _norm(w) not in tool_words
        and w.lower() not in names
    ]
    values = quoted + [words[i] for i in rest_at]
    split = _split_at_separator(words, rest_at) if len(slots) >= 2 and not quoted else None
    if split is not None:
        values = split
    elif len(slots) >= 2 and len(values) > len(slots):
        values = [*values[: len(slots) - 1], " ".join(values[len(slots) - 1 :])]
    elif len(slots) == 1 and len(values) > 1 and not quoted:
        values = [" ".join(values)]
    for pname, value in zip(slots, values, strict=False):
        arguments[pname] = value


def _split_at_separator(words: list[str], rest_at: list[int]) -> list[str] | None:
    """`favorite color is dark blue` -> ["favorite color", "dark blue"], else None."""
    for s, word in enumerate(words):
        if word.lower() not in _SEPARATORS:
            continue
        before = [words[i] for i in rest_at if i < s]
        after = [words[i] for i in rest_at if i > s]
        if before and after:
            return [" ".join(before), " ".join(after)]
    return None


def _tool_outputs(messages: list[Message]) -> str:
    outputs: list[str] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        outputs.append(_tool_output(message))
    return "\n".join(reversed(outputs))


def _tool_output(message: Message) -> str:
    """A result as the reply says it: a rejected call did not run, which is no failure."""
    if message.content.startswith(NOT_RUN):
        return f"{message.tool_name} was not run: {message.content.removeprefix(NOT_RUN)}"
    prefix = f"{message.tool_name} failed: " if message.is_error else ""
    return prefix + message.content


def _menu(tools: list[ToolSpec]) -> str:
    if not tools:
        return "This agent has no tools."
    names = ", ".join(f"/{t.name}" for t in tools)
    return f"I match what you type to a tool. Try one of: {names} (or /help)."


def create(spec: str, options: ModelOptions) -> OfflineModel:
    return OfflineModel()
