"""A run's context, as DCAF builds it: the request's own fields, then its
`platform_context` (tenant, namespace, credentials...) on top.

A HelpDesk client sends `platform_context` on the last user message; a request may also
carry it as a field of its own. Either way its keys are the context a tool's
`platform_context` parameter and the interceptors' `request.context` see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dcaf_cli.protocol.wire import WireMessage

PLATFORM_CONTEXT = "platform_context"


def run_context(context: Mapping[str, Any] | None, wire: Sequence[WireMessage]) -> dict[str, Any]:
    """`context` with its `platform_context` and the last user message's merged in (later
    wins); a copy, so a tool that changes it changes nothing for the next run."""
    merged = {k: v for k, v in (context or {}).items() if k != PLATFORM_CONTEXT}
    nested = (context or {}).get(PLATFORM_CONTEXT)
    if isinstance(nested, Mapping):
        merged.update(nested)
    for message in reversed(wire):
        if message.role == "user":
            given = message.platform_context
            if isinstance(given, Mapping):
                merged.update(given)
            break
    return merged
