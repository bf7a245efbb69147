"""A custom agent function, as DCAF's docs write one: `(messages, context, session)`.

It replies with what it was given (the context, the last message), counts its calls in
the session, and raises when asked to. Asked to "delete pod NAME", it proposes that call
for approval, and runs it once `context["approved_tool_calls"]` approves it.
"""

import json

from dcaf.core import Session
from dcaf.core.primitives import AgentResult


def agent(messages: list, context: dict, session: Session) -> AgentResult:
    last = messages[-1]["content"] if messages else ""
    if last == "boom":
        raise RuntimeError("the function fell over")
    approved = context.get("approved_tool_calls", [])
    if approved:
        deleted = [call["input"]["name"] for call in approved if call["name"] == "delete_pod"]
        session.set("deleted", session.get("deleted", []) + deleted)
        return AgentResult(text=json.dumps({"approved": approved}), session=session.to_dict())
    if last.startswith("delete pod "):
        proposal = {
            "id": "fn-1",
            "name": "delete_pod",
            "input": {"name": last.removeprefix("delete pod ")},
            "description": "Delete a pod",
        }
        return AgentResult(text="I need your approval.", pending_tools=[proposal])
    session.set("calls", session.get("calls", 0) + 1)
    reply = {"context": context, "last": last, "calls": session.get("calls")}
    return AgentResult(text=json.dumps(reply, sort_keys=True), session=session.to_dict())
