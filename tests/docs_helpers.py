"""Reading the docs' code blocks, and comparing a command's output with the one they show.

The conventions (CONTRIBUTING.md, "The docs test", says them for writers):

- Under a `$ ` command, the lines up to the next `$ ` line are its output, stdout and
  stderr as a terminal interleaves them. No line under it: the command prints nothing.
- `…` in a line stands for any text within that line; a line that is only `...` stands
  for any number of lines, none included.
- `<!-- docs-test: skip-output -->` just before a block (a reason may follow a colon)
  runs its commands but does not compare their output; the count of such commands is
  pinned in tests/test_docs.py, so a new one is a deliberate change.
- Before comparing, both sides are normalised by `RULES`: what changes from run to run
  (times, durations, signatures, hashes, pids, sizes) reads the same.
"""

from __future__ import annotations

import ast
import difflib
import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

FILE_COMMENT = re.compile(r"^#\s*([\w.-]+(?:/[\w.-]+)*\.\w+)\s*$")
FILE_INFO = re.compile(r"\bfile=(\S+)")
EXPECTED_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
SKIP_OUTPUT = re.compile(r"^<!--\s*docs-test:\s*skip-output\b.*-->$")
ANY_LINES = "..."  # a shown line that stands for any number of lines
ANY_TEXT = "…"  # within a shown line, any text
HOLE = "\x00"  # where an f-string puts a value

# What varies from run to run, and what it reads as on both sides. Each is a regex that
# stays within what it names, so a rule never hides a difference beside it.
RULES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "a duration: `160 µs`, `10.4 ms`, `2 s`",
        re.compile(r"(?<![\w.])\d+(?:\.\d+)? ?(?:ns|µs|ms|s)\b"),
        "‹duration›",
    ),
    (
        'a JSON duration: `"duration_ms": 0.301`',
        re.compile(r'("duration_ms": ?)\d+(?:\.\d+)?(?:e-?\d+)?'),
        r"\1‹duration›",
    ),
    (
        "a date and time: `2026-11-25T12:00:00Z`, and a session name's `20261201-093005`",
        re.compile(
            r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
            r"|(?<!\d)\d{8}-\d{6}(?!\d)"
        ),
        "‹time›",
    ),
    (
        "a signature: `v2.<issued>.<nonce>.<mac>`",
        re.compile(r"\bv2\.\d+\.[\w-]+\.[\w-]+"),
        "‹signature›",
    ),
    ("a hash or a nonce: 16 or more hex digits", re.compile(r"\b[0-9a-f]{16,}\b"), "‹hex›"),
    ("a process id: `pid 48213`", re.compile(r"\bpid \d+"), "pid ‹pid›"),
    (
        "a file size: `3.1 KB`, `2.0 MB`",
        re.compile(r"(?<![\w.])\d+(?:\.\d+)? (?:B|KB|MB|GB)\b"),
        "‹size›",
    ),
]


@dataclass
class Command:
    line: int
    text: str
    shown: list[str] = field(default_factory=list)  # the output the docs show under it
    compared: bool = True  # False under `<!-- docs-test: skip-output -->`

    @property
    def expected_exit(self) -> int:
        match = EXPECTED_EXIT.search(self.text)
        return int(match[1]) if match else 0

    @property
    def background(self) -> bool:
        return self.text.endswith("&")


@dataclass
class Block:
    doc: Path
    root: Path
    line: int
    commands: list[Command]

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(self.root)}:L{self.line}"


@dataclass
class Document:
    blocks: list[Block]
    files: dict[str, str]  # the files its other blocks define, by relative path
    examples: list[tuple[int, str]]  # output shown in blocks that are not run


def parse(doc: Path, root: Path) -> Document:
    """The console blocks of a Markdown file, the files and the example output it shows."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    parsed = Document([], {}, [])
    i = 0
    while i < len(lines):
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            i = _indented(lines, i, parsed)
            continue
        if not lines[i].startswith("```"):
            i += 1
            continue
        info = lines[i][3:].strip()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = lines[i + 1 : end]
        lang = info.split(" ")[0]
        named = FILE_COMMENT.match(body[0]) if body and lang in ("python", "yaml") else None
        named = named or (FILE_INFO.search(info) if lang == "json" else None)
        if named:
            parsed.files[named[1]] = "\n".join(body) + "\n"
        elif lang == "console":
            commands = _commands(body, first=i + 2, compared=not _skips_output(lines, i))
            parsed.blocks.append(Block(doc, root, i + 1, commands))
        elif not lang:
            parsed.examples.extend((n, text) for n, text in enumerate(body, start=i + 2))
        i = end + 1
    return parsed


def _indented(lines: list[str], i: int, parsed: Document) -> int:
    """An indented code block: example output, never run."""
    while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
        if lines[i].strip():
            parsed.examples.append((i + 1, lines[i][4:]))
        i += 1
    return i


def _skips_output(lines: list[str], fence: int) -> bool:
    before = next((line for line in reversed(lines[:fence]) if line.strip()), "")
    return bool(SKIP_OUTPUT.match(before.strip()))


def _commands(body: list[str], first: int, compared: bool) -> list[Command]:
    commands: list[Command] = []
    for n, text in enumerate(body, start=first):
        if text.startswith("$ "):
            commands.append(Command(n, text[2:].strip(), compared=compared))
        elif commands:
            commands[-1].shown.append(text)
    return commands


def normalise(line: str) -> str:
    """`line` as compared: trailing spaces dropped, what varies from run to run replaced."""
    for _, pattern, replacement in RULES:
        line = pattern.sub(replacement, line)
    return line.rstrip()


def _lines(text: list[str]) -> list[str]:
    lines = [normalise(line) for line in text]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _pattern(shown: list[str]) -> re.Pattern[str]:
    parts = []
    for line in shown:
        if line == ANY_LINES:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*?".join(map(re.escape, line.split(ANY_TEXT))) + r"\n")
    return re.compile("".join(parts))


def difference(shown: list[str], printed: str) -> str | None:
    """None when `printed` is what `shown` shows; else a diff, shown first."""
    expected, actual = _lines(shown), _lines(printed.splitlines())
    text = "".join(line + "\n" for line in actual)
    if _pattern(expected).fullmatch(text):
        return None
    diff = difflib.unified_diff(expected, actual, "shown", "printed", lineterm="", n=2)
    return "\n".join(diff)


MESSAGE = re.compile(r"^(?:dcaf: (?:error|interrupted|note|warning): |note: |warning: )(.*)$")
VALUE = re.compile(r"[\d./`\"<>‹…]|^'|'$")  # a word that holds a value: a path, a number
PHRASE_BREAK = re.compile(r"[()\[\];:,—?]")


def phrases(message: str) -> list[str]:
    """The fixed wording of a message: its runs of two or more plain words."""
    found = []
    for piece in PHRASE_BREAK.split(message):
        run: list[str] = []
        for word in [*piece.split(), ""]:
            if word and not VALUE.search(word):
                run.append(word)
                continue
            if len(run) >= 2:
                found.append(" ".join(run))
            run = []
    return found


def is_wording(phrase: str, known: str) -> bool:
    """Whether `phrase` is in `known`, or is with one word in the place of an f-string's
    value (a value that looks plain, as `openai` in "the openai provider needs")."""
    if phrase in known:
        return True
    words = phrase.split()
    holes = (" ".join([*words[:i], HOLE, *words[i + 1 :]]) for i in range(len(words)))
    return any(hole in known for hole in holes)


def program_text(package: Path) -> str:
    """Every string the program can print, one per line: its literals, each f-string with
    `HOLE` where a value goes, and the operating system's error texts."""
    texts = [os.strerror(code) for code in errno.errorcode]
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                texts.append("".join(_fixed(part) for part in node.values))
    return "\n".join(" ".join(text.split()) for text in texts)


def _fixed(part: ast.expr) -> str:
    return str(part.value) if isinstance(part, ast.Constant) else HOLE


def unknown_wording(examples: list[tuple[int, str]], known: str) -> tuple[int, list[str]]:
    """How many of `examples` are messages, and each phrase of theirs dcaf never says."""
    messages = [(line, match) for line, text in examples if (match := MESSAGE.match(text))]
    unknown = [
        f"L{line}: {phrase!r} in {match[0]}"
        for line, match in messages
        for phrase in phrases(match[1])
        if not is_wording(phrase, known)
    ]
    return len(messages), unknown
