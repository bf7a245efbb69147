"""Call ids that carry their proposal's signature: `<id>.<signature>`.

A client that keeps only DCAF's fields drops our `signature` field, but it must keep a
call's `id` (DCAF's flows answer a proposal by its id). So a proposal goes out with its
signature bound into the id as well, `offline-1.v2.1795614753.q3RdQ8sXw1KbT0yv.HOoO...`,
and the proof survives any client that echoes the call. The signature covers the plain id
(`offline-1`), so the suffix cannot be moved to another call.

Models never see the suffix: it would break the id rules of providers (OpenAI allows 40
characters; Anthropic and Bedrock no dots), so incoming ids are split back (`split_id`)
before a conversation reaches the runtime.
"""

from __future__ import annotations

from dcaf_cli.protocol.signing import Stamp


def signed_id(call_id: str, signature: str | None) -> str:
    return f"{call_id}.{signature}" if signature else call_id


def split_id(wire_id: str) -> tuple[str, str | None]:
    """The plain id, and the signature bound into `wire_id` (None when there is none)."""
    parts = wire_id.rsplit(".", 4)
    if len(parts) == 5 and parts[0]:
        signature = ".".join(parts[1:])
        if Stamp.parse(signature) is not None:
            return parts[0], signature
    return wire_id, None
