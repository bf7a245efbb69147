"""`dcaf run --context KEY=VALUE` and `--context-file FILE`: the platform context a DCAF
agent's tools receive in `platform_context` (tenant, namespace, ...). It is kept in the
session file's `meta.platform_context`, so a later run of the same file has it too."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dcaf_cli.errors import UsageError

META_KEY = "platform_context"


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` pairs as a dict (values are strings; use a file for other JSON)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"--context {pair!r} is not KEY=VALUE",
                hint="e.g. --context tenant_name=acme (or --context-file context.json)",
            )
        out[key.strip()] = value
    return out


def read_context_file(path: Path) -> dict[str, Any]:
    """A JSON object from `path`; anything else is one line naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--context-file {path}: cannot read it: {exc.strerror}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--context-file {path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f"--context-file {path}: must hold a JSON object of context values")
    return value


def merged_context(stored: object, file: Path | None, pairs: Sequence[str]) -> dict[str, Any]:
    """The file's stored context, then the context file's, then the pairs (later wins)."""
    out: dict[str, Any] = dict(stored) if isinstance(stored, Mapping) else {}
    if file is not None:
        out.update(read_context_file(file))
    out.update(parse_pairs(pairs))
    return out
