"""A custom agent function, as DCAF's docs write one: `(messages, context, session)`.

It replies with what it was given (the context, the last message), counts its calls in
the session, and raises when asked to.
"""

import json

from dcaf.core import Session
from dcaf.core.primitives import AgentResult


def agent(messages: list, context: dict, session: Session) -> AgentResult:
    last = messages[-1]["content"] if messages else ""
    if last == "boom":
        raise RuntimeError("the function fell over")
    session.set("calls", session.get("calls", 0) + 1)
    reply = {"context": context, "last": last, "calls": session.get("calls")}
    return AgentResult(text=json.dumps(reply, sort_keys=True), session=session.to_dict())
