"""A turn (or a part of one) as a transaction on its session, for every kind of agent.

The model turn, the custom agent function and the remote agent run through `recorded`, and
`complete_turn` wraps the whole user turn in the same `Recorder` (session/recorder.py), so
the begin / keep / roll back logic exists once, and the diff is computed once per turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dcaf_cli.runtime.execution import exit_error
from dcaf_cli.runtime.results import AgentResponse
from dcaf_cli.session.recorder import Recorder
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import exception_line


async def recorded(
    session: Session, step: Callable[[], Awaitable[AgentResponse]], *, diff: bool = True
) -> AgentResponse:
    """Run `step`, keeping its changes to `session` only if it succeeds.

    On success the changes are kept and put on the response. If the step raises, or
    answers with an error, the session is exactly as before and the response says what
    went wrong in one line; so does a `sys.exit` in agent code. A cancellation (Ctrl-C)
    rolls back too, and propagates. Without `diff`, the changes are kept but not listed.
    """
    with Recorder(session, diff=diff) as recorder:
        try:
            response = await step()
        except Exception as exc:
            recorder.rollback()
            return AgentResponse("", session, error=exception_line(exc), exception=exc)
        except SystemExit as exc:  # agent code (a function, an interceptor) cannot end dcaf
            recorder.rollback()
            return AgentResponse("", session, error=exit_error("agent code", exc), exception=exc)
        if response.error is not None:
            recorder.rollback()
            response.changes = []
            return response
        response.changes = recorder.commit()
    return response
