"""Data shown as literal text: no Rich markup interpreted, no terminal escape obeyed.

Everything that comes from sessions, tools and models goes through `literal` or
`short_json`: `[red]` stays `[red]`, and an ESC byte is shown as `\\x1b`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.text import Text

from dcaf_cli.session.redact import redact

# C0 controls but tab and newline, DEL, and C1 controls (CSI 0x9b among them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` with control characters made visible (`\\x1b`), so they cannot act."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def literal(text: str, style: str = "") -> Text:
    """A Text that shows `text` exactly, whatever brackets or escapes it holds."""
    return Text(clean(text), style=style)


def short_json(value: Any, *, width: int = 80, reveal: bool = False, key: object = None) -> str:
    """`value` as compact JSON, secrets masked unless `reveal`, cut to `width` with `…`."""
    shown = value if reveal else redact(value, key)
    text = json.dumps(shown, ensure_ascii=False, separators=(", ", ": "))
    text = clean(text)
    if len(text) > width:
        text = text[: max(width - 1, 1)] + "…"
    return text


def shorten(text: str, width: int) -> str:
    text = clean(" ".join(text.split()))
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"
