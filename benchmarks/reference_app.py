"""The reference DCAF server with the session guide's custom agent function, started the
way DCAF's documentation shows (`serve(my_agent)`): `PYTHON reference_app.py PORT`, where
PYTHON has `dcaf` installed (`make bench-reference-env`). Not importable from our venv."""

import sys

from dcaf.core import Session, serve
from dcaf.core.primitives import AgentResult


def my_agent(messages: list, context: dict, session: Session) -> AgentResult:
    call_count = session.get("call_count", 0)
    session.set("call_count", call_count + 1)
    session.set("last_message", messages[-1]["content"])
    return AgentResult(text=f"This is call #{call_count + 1}", session=session.to_dict())


if __name__ == "__main__":
    serve(my_agent, host="127.0.0.1", port=int(sys.argv[1]))
