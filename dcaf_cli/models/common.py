"""Small pieces every provider needs: alternating turns, and server messages made safe to
show on one line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from dcaf_cli.session.redact import redact_message
from dcaf_cli.session.text import one_line, shorten

B = TypeVar("B")

CUT_SHORT = (
    "the reply was cut short (the stream ended before the model's end marker); "
    "nothing of it was kept"
)


def alternating_turns(
    items: Iterable[tuple[Literal["user", "assistant"], list[B]]],
) -> list[tuple[Literal["user", "assistant"], list[B]]]:
    """Merge consecutive same-role items into one turn, dropping empty ones.

    The Messages and Converse APIs want user and assistant turns to alternate, so several
    tool results, or tool results then the user's next words, share a turn.
    """
    turns: list[tuple[Literal["user", "assistant"], list[B]]] = []
    for role, blocks in items:
        if not blocks:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, list(blocks)))
    return turns


def origin(url: str) -> str:
    """scheme://host:port of `url`, without path or any user:password part."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "the endpoint"
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def server_message(text: str, limit: int = 160) -> str:
    """A server's message on one line, short, with anything like a key masked (some
    servers quote the key they rejected; error bodies can be whole HTML pages)."""
    line = redact_message(one_line(text)) or "no details"
    return shorten(line, limit)
