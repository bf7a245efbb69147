"""What one request may make a server worker do: every bound, in one place.

Each figure is an option of `dcaf serve` (and of `create_app`), documented in
docs/protocol.md. The body is checked against `body_bytes`, `values` and `depth` before
any Python object is built from it, so the memory a request can take is bounded by its
size; `concurrent` bounds how many requests a worker holds at once (from reading the body
to the end of the turn), so a flood of maximal requests waits instead of multiplying
that memory. `text_chars` bounds
each message's content, which is where a slash call's arguments come from.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    body_bytes: int = 4 * MIB  # 413 beyond
    depth: int = 100  # nesting levels of the body outside sessions (400)
    values: int = 200_000  # JSON values (objects, arrays and scalars) in a body (400)
    text_chars: int = 1 * MIB  # characters of one message's content (422)
    concurrent: int = 8  # requests a worker reads, checks and runs at once; the rest wait
    body_seconds: float = 30.0  # to receive a body once its headers arrived (408)
    header_seconds: float = 10.0  # to receive a request's headers (the connection closes)
    keep_alive_seconds: int = 5  # an idle keep-alive connection closes
    connections: int = 512  # open connections and running requests per worker (503 beyond)


DEFAULT_LIMITS = Limits()
