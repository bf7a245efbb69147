"""Data shown as literal text: no Rich markup interpreted, no terminal escape obeyed.

Everything that comes from sessions, tools and models goes through `literal` or
`short_json`: `[red]` stays `[red]`, and an ESC byte is shown as `\\x1b`.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from dcaf_cli.session.jsontext import dumps
from dcaf_cli.session.redact import redact
from dcaf_cli.session.text import cut, visible_controls


def literal(text: str, style: str = "") -> Text:
    """A Text that shows `text` exactly, whatever brackets or escapes it holds."""
    return Text(visible_controls(text), style=style)


def short_json(value: Any, *, width: int = 80, reveal: bool = False, key: object = None) -> str:
    """`value` as compact JSON, secrets masked unless `reveal`, cut to `width` with `…`."""
    shown = value if reveal else redact(value, key)
    # Only the first line's worth is written: a 10 MB (or 5,000-deep) value costs little.
    text = dumps(shown, limit=width + 1, nan="null")[: width + 1]
    return cut(visible_controls(text), width)
