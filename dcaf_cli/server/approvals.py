"""Approval decisions over HTTP: only a call this server proposed may run.

A decision to run (`execute: true`) in the last user message is honoured only when the
paused assistant message before it proposes a call with the same id and name whose
`signature` verifies against the session the request carries (see `signing`), and the
decision keeps the proposed arguments. The one edit allowed is filling in the arguments
of a `missing_arguments` proposal, keeping those already given: that is what the runtime
asks the user for, and the result is a call the user could have typed as `/tool k=v`.
Anything else is refused with 403 before the agent runs, so a refused tool never runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from dcaf_cli.protocol import WireMessage, WireToolCall, pending_decisions
from dcaf_cli.server.intake import HTTPProblem
from dcaf_cli.server.signing import Proposal, Signer, canonical, digest


def check_decisions(
    messages: list[WireMessage], session: Mapping[str, Any], signer: Signer
) -> None:
    """Raise 403 unless every approval in the last message answers a signed proposal."""
    approved = {d.id: d for d in pending_decisions(messages)}  # the last one wins, as in Turn
    approved = {call_id: d for call_id, d in approved.items() if d.execute}
    if not approved:
        return
    paused = messages[-2] if len(messages) >= 2 and messages[-2].role == "assistant" else None
    proposed = paused.data.tool_calls if paused is not None else []
    repeated = sorted(i for i, n in Counter(p.id for p in proposed).items() if n > 1)
    if repeated:
        raise HTTPProblem(403, f"refused: the paused message proposes call {repeated[0]!r} twice")
    by_id = {p.id: p for p in proposed}
    session_digest = digest(session)
    for call_id, decision in approved.items():
        proposal = by_id.get(call_id)
        if proposal is None:
            raise HTTPProblem(
                403, f"refused to run {decision.name} ({call_id}): no such call is waiting"
            )
        _check(proposal, decision, session_digest, signer)


def _check(
    proposal: WireToolCall, decision: WireToolCall, session_digest: str, signer: Signer
) -> None:
    label = f"{proposal.name} ({proposal.id})"
    if decision.name != proposal.name:
        raise HTTPProblem(
            403, f"refused to run {label}: the decision names {decision.name!r} instead"
        )
    intent = proposal.intent or decision.intent or ""
    signed = Proposal(proposal.id, proposal.name, intent, proposal.input, session_digest)
    # The paused message's copy is authoritative; a client that dropped the signature there
    # but echoed it in the decision (which repeats the call) is checked on that one.
    problem = signer.proposal_problem(signed, proposal.signature or decision.signature)
    if problem is not None:
        raise HTTPProblem(403, f"refused to run {label}: {problem}")
    if canonical(decision.input) == canonical(proposal.input):  # strictly: 1 is not true
        return
    if intent == "missing_arguments" and _fills_only(proposal.input, decision.input):
        proposal.input = dict(decision.input)  # the runtime then sees no edit
        return
    raise HTTPProblem(
        403,
        f"refused to run {label}: the decision changes its arguments (over HTTP a call "
        "runs exactly as proposed)",
    )


def _fills_only(proposed: Mapping[str, Any], decided: Mapping[str, Any]) -> bool:
    return all(
        key in decided and canonical(decided[key]) == canonical(value)
        for key, value in proposed.items()
    )
