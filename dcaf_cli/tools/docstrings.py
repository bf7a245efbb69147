"""Read a tool's description and parameter descriptions from its docstring.

Google style, the one tool authors use most:

    Add an item to the cart.

    Args:
        item: What to add.
        quantity (int): How many; continuation lines
            are joined.
"""

from __future__ import annotations

import inspect
import re

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$"
)
_PARAM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """`(summary, {param: description})` from a docstring; empty when there is none."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    indent = 0
    for line in lines:
        match = _SECTION.match(line.strip()) if not line.startswith(" ") else None
        if match:
            section, current = match.group(1), None
            continue
        if section is None:
            summary.append(line)
        elif section in ("Args", "Arguments", "Parameters", "Params") and line.strip():
            current, indent = _param_line(line, params, current, indent)
    first_paragraph = "\n".join(summary).strip().split("\n\n")[0]
    return " ".join(first_paragraph.split()), params


def _param_line(
    line: str, params: dict[str, str], current: str | None, indent: int
) -> tuple[str | None, int]:
    this_indent = len(line) - len(line.lstrip())
    m = _PARAM.match(line.strip())
    if m and (current is None or this_indent <= indent):
        name = m.group(1).lstrip("*")
        params[name] = m.group(2).strip()
        return name, this_indent
    if current is not None:
        params[current] = f"{params[current]} {line.strip()}".strip()
    return current, indent
