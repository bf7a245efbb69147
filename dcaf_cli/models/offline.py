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

import re
import shlex
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Profile:
    """What the model reads from a tool's spec, worked out once per spec."""

    vocabulary: frozenset[str]  # the words that name the tool (see `_vocabulary_of`)
    name_words: frozenset[str]  # its name's words, as written and normalised
    types: dict[str, str]  # parameter -> JSON type
    choices: dict[str, dict[str, Any]]  # a Literal/Enum parameter -> {lower text: value}
    numbers: tuple[tuple[str, bool], ...]  # numeric parameters, in order, and if integer
    strings: tuple[str, ...]  # free-text parameters, in order
    names: frozenset[str]  # parameter names, lower case


# id(spec.parameters) -> (that object, the spec's name and description, its profile).
# A request's tool specs are made afresh each turn, but a Tool's schema is one object for
# its life (built with the tool, as its argument model is: neither follows a change made
# to it in place); holding it here keeps its id from being reused while the entry lasts.
_PROFILES: dict[int, tuple[dict[str, Any], str, str, _Profile]] = {}


def _profile(spec: ToolSpec) -> _Profile:
    hit = _PROFILES.get(id(spec.parameters))
    if hit is not None and hit[0] is spec.parameters and hit[1:3] == (spec.name, spec.description):
        return hit[3]
    profile = _profile_of(spec)
    if len(_PROFILES) >= 1024:  # specs an interceptor makes anew each turn: start over
        _PROFILES.clear()
    _PROFILES[id(spec.parameters)] = (spec.parameters, spec.name, spec.description, profile)
    return profile


def _profile_of(spec: ToolSpec) -> _Profile:
    props: dict[str, Any] = spec.parameters.get("properties", {})
    types = {name: _json_type(prop) for name, prop in props.items()}
    choices = {
        name: {str(c).lower(): c for c in prop["enum"]} for name, prop in props.items()
        if prop.get("enum")
    }  # fmt: skip
    words = re.split(r"[_\W]+", spec.name.lower())
    return _Profile(
        vocabulary=_vocabulary_of(spec.name, spec.description, props),
        name_words=frozenset(words) | {_norm(w) for w in words},
        types=types,
        choices=choices,
        numbers=tuple(
            (name, kind == "integer")
            for name, kind in types.items()
            if kind in ("integer", "number")
        ),
        strings=tuple(
            name for name, kind in types.items() if kind == "string" and "enum" not in props[name]
        ),
        names=frozenset(name.lower() for name in props),
    )


def _vocabulary_of(name: str, description: str, props: dict[str, Any]) -> frozenset[str]:
    """The words that name a tool: from its name, description, parameters and their
    choices."""
    words = set(re.split(r"[_\W]+", name.lower()))
    words |= {_norm(w) for w in re.findall(r"[^\W\d_]+", description)}
    for pname, prop in props.items():
        words |= set(re.split(r"[_\W]+", pname.lower()))
        words |= {_norm(str(c)) for c in prop.get("enum", [])}
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
        call = parse_slash_call(text, _profile(spec).types)
        return ModelReply(tool_calls=[ToolCall("offline-1", spec.name, call.arguments)])

    def _free_text(self, text: str, tools: list[ToolSpec]) -> ModelReply:
        """One call, or one per counted part: "add 3 pizzas and 2 crème brûlée" is two
        calls of the tool the first part names."""
        first, *more = _COUNTED_PARTS.split(text)
        reply = self._best_call(first, tools)
        if not more or len(reply.tool_calls) != 1:
            return reply
        spec = next(t for t in tools if t.name == reply.tool_calls[0].name)
        if "integer" not in _profile(spec).types.values():
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
        scores = [len(wanted & _profile(spec).vocabulary) for spec in tools]
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


def _json_type(prop: dict[str, Any]) -> str:
    if "type" in prop:
        return str(prop["type"])
    for option in prop.get("anyOf", []):
        if option.get("type") not in (None, "null"):
            return str(option["type"])
    return ""


def fill_arguments(spec: ToolSpec, words: list[str]) -> dict[str, Any]:
    """Fill a tool's parameters from the words of a request (see the module docstring)."""
    profile = _profile(spec)
    arguments: dict[str, Any] = {}
    used: set[int] = set()
    # Choices first: a word that is a Literal/Enum value picks that parameter.
    for pname, choices in profile.choices.items():
        for i, w in enumerate(words):
            if i not in used and w.lower().strip("'\"") in choices:
                arguments[pname] = choices[w.lower().strip("'\"")]
                used.add(i)
                break
    _fill_numbers(profile, words, arguments, used)
    _fill_strings(profile, words, arguments, used)
    return arguments


def _fill_numbers(
    profile: _Profile, words: list[str], arguments: dict[str, Any], used: set[int]
) -> None:
    numeric = [(p, is_int) for p, is_int in profile.numbers if p not in arguments]
    if not numeric:
        return
    numbers = [i for i, w in enumerate(words) if _NUMBER.match(w) and i not in used]
    for (pname, is_int), i in zip(numeric, numbers, strict=False):
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
    profile: _Profile, words: list[str], arguments: dict[str, Any], used: set[int]
) -> None:
    slots = [p for p in profile.strings if p not in arguments]
    if not slots:
        return
    quoted = [shlex.split(w)[0] for i, w in enumerate(words) if i not in used and w[:1] in "'\""]
    # Numbers no numeric parameter took are words like any other ("zip to 02134").
    tool_words, names = profile.name_words, profile.names
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
