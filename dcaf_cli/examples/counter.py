"""counter: a custom agent function that keeps a count in the session (no model, no tools)."""

from __future__ import annotations

from typing import Any

from dcaf_cli import AgentResult, Session


def counter(
    messages: list[dict[str, Any]], context: dict[str, Any], session: Session
) -> AgentResult:
    """Custom agent with session access."""
    call_count = session.get("call_count", 0)

    session.set("call_count", call_count + 1)
    session.set("last_message", messages[-1]["content"])

    return AgentResult(text=f"This is call #{call_count + 1}", session=session.to_dict())


agent = counter
