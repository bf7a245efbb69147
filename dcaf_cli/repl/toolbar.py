"""The REPL's bottom toolbar: the file, its revision and turns, the model and the approvals,
fitted to the terminal's width.

A toolbar wider than the terminal is cut at the right edge, and what is cut is what matters
most (the approvals, UNSAVED), so the line gives up the least useful detail first: the
folders of the path (`~/…/cart.json`, then `cart.json`), the names of the tools approved
"always" (their count stays), the turn count, the file name, the model, and only then is
the line itself shortened, the UNSAVED flag kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from prompt_toolkit.utils import get_cwidth

from dcaf_cli.session.text import plural

ELLIPSIS = "…"


@dataclass(frozen=True)
class ToolbarFacts:
    """What the toolbar says about the conversation."""

    path: Path | None
    revision: int
    turns: int
    model: str
    always: Sequence[str]  # the tools approved "always"
    unsaved: bool


def toolbar_text(facts: ToolbarFacts, width: int) -> str:
    """The toolbar's line, at most `width` columns wide."""
    lines = (" " + " · ".join(parts) for parts in _variants(facts))
    line = ""
    for line in lines:
        if get_cwidth(line) <= width:
            return line
    flag = " · UNSAVED" if facts.unsaved else ""
    return _cut(line.removesuffix(flag), width - get_cwidth(flag)) + flag


def _variants(facts: ToolbarFacts) -> Iterator[list[str]]:
    """The toolbar's parts, from the fullest to the shortest."""
    paths = _path_forms(facts.path)
    always = sorted(facts.always)
    approvals = f"approvals: always: {', '.join(always)}" if always else "approvals: ask"
    counted = f"approvals: always: {plural(len(always), 'tool')}"
    short = min(approvals, counted, key=len) if always else approvals
    tail = ["UNSAVED"] if facts.unsaved else []
    revision, turns, model = f"rev {facts.revision}", plural(facts.turns, "turn"), facts.model
    for path in paths:
        yield [path, revision, turns, model, approvals, *tail]
    yield [paths[-1], revision, turns, model, short, *tail]
    yield [paths[-1], revision, model, short, *tail]
    yield [revision, model, short, *tail]
    yield [revision, short, *tail]  # the model goes before the approvals do


def _path_forms(path: Path | None) -> list[str]:
    """The file as written, with `~` for the home folder, then `~/…/name`, then `name`."""
    if path is None:
        return ["(no file)"]
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and text.startswith(home + os.sep):
        text = "~" + text[len(home) :]
    forms = [text]
    head, _, name = text.rpartition(os.sep)
    if head:
        root = head.split(os.sep)[0]  # "~", "" (an absolute path) or a relative folder
        if head != root:
            forms.append(f"{root}{os.sep}{ELLIPSIS}{os.sep}{name}")
        forms.append(name)
    return forms


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` columns, an ellipsis marking the cut."""
    if width <= 0:
        return ""
    if get_cwidth(text) <= width:
        return text
    while text and get_cwidth(text) > width - 1:
        text = text[:-1]
    return text + ELLIPSIS
