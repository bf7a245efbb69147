"""notes: remember and recall values across turns (the default agent).

Try: `remember color blue`, `recall color`, `/list_notes`, `/forget color`.
"""

from __future__ import annotations

from dcaf_cli import Agent, Session, tool


@tool(description="Remember a value")
def remember(key: str, value: str, session: Session) -> str:
    """Store a value in session."""
    session.set(key, value)
    return f"Remembered {key}={value}"


@tool(description="Recall a value")
def recall(key: str, session: Session) -> str:
    """Retrieve a value from session."""
    value = session.get(key)
    if value is None:
        return f"I don't remember '{key}'"
    return f"{key} is '{value}'"


@tool(description="Forget a remembered value")
def forget(key: str, session: Session) -> str:
    """Delete a value from session."""
    if not session.has(key):
        return f"I don't remember '{key}'"
    session.delete(key)
    return f"Forgot {key}"


@tool(description="List everything remembered")
def list_notes(session: Session) -> str:
    """Show every key and value."""
    if session.is_empty:
        return "I don't remember anything yet."
    return "\n".join(f"{key}: {value}" for key, value in session.items())


agent = Agent(tools=[remember, recall, forget, list_notes], name="notes")
