"""Approval decisions over HTTP: only a call this server proposed may run, and only once.

A decision to run (`execute: true`) in the last user message is honoured only when the
call it answers carries a `signature` that verifies against the session the request
carries (see `signing`), and the decision keeps the proposed arguments. The call it
answers is the paused assistant message's call with the same id; when the request has no
such message (DCAF's flows send the decision alone), it is the decision itself, whose
signature travels in its id (see `callid`), and a paused message is put back in front of
it for the runtime (`with_paused`). The one edit allowed is filling in the arguments
of a `missing_arguments` proposal, keeping those already given: that is what the runtime
asks the user for, and the result is a call the user could have typed as `/tool k=v`.
Anything else is refused with 403 before the agent runs, so a refused tool never runs.

`check_decisions` returns the `Claim`s of the proposals the decisions use (approved, or
rejected with a signature that verifies), for the ledger (see `ledger`): the service
records them before the turn runs and refuses a request whose proposal was already
decided. Approvals are single-use: one whose run then fails is used all the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from dcaf_cli.protocol.signing import Claim, Proposal, Signer, Stamp, canonical, digest
from dcaf_cli.protocol.wire import WireData, WireMessage, WireToolCall, pending_decisions
from dcaf_cli.server.intake import HTTPProblem

ALREADY_USED = "this approval was already used (a proposal is decided once; ask again)"


def check_decisions(
    messages: list[WireMessage], session: Mapping[str, Any], signer: Signer
) -> list[Claim]:
    """Raise 403 unless every approval in the last message answers a signed proposal;
    return the claims of the proposals the decisions use. A decision that answers no call
    of a paused message but carries its own signature is its own proposal: `messages` then
    gets the paused message the runtime expects (see `with_paused`)."""
    decided = {d.id: d for d in pending_decisions(messages)}  # the last one wins, as in Turn
    if not decided:
        return []
    paused = messages[-2] if len(messages) >= 2 and messages[-2].role == "assistant" else None
    proposed = paused.data.tool_calls if paused is not None else []
    repeated = sorted(i for i, n in Counter(p.id for p in proposed).items() if n > 1)
    if repeated and any(d.execute for d in decided.values()):
        raise HTTPProblem(403, f"refused: the paused message proposes call {repeated[0]!r} twice")
    by_id = {p.id: p for p in proposed}
    alone = [_as_proposal(d) for i, d in decided.items() if i not in by_id and d.signature]
    by_id.update((p.id, p) for p in alone)
    session_digest = digest(session)
    claims: list[Claim] = []
    for call_id, decision in decided.items():
        proposal = by_id.get(call_id)
        if decision.execute:
            if proposal is None:
                raise HTTPProblem(
                    403, f"refused to run {decision.name} ({call_id}): no such call is waiting"
                )
            claims.append(_check(proposal, decision, session_digest, signer))
        elif proposal is not None and not repeated and proposal.name == decision.name:
            claims += _rejected(proposal, decision, session_digest, signer)
    if alone:
        with_paused(messages, alone)
    return claims


def _as_proposal(decision: WireToolCall) -> WireToolCall:
    return decision.model_copy(update={"execute": False, "rejection_reason": None}, deep=True)


def with_paused(messages: list[WireMessage], proposals: list[WireToolCall]) -> None:
    """Give the decisions in the last message the paused message they answer: the one
    before them gets `proposals`, or a new one is put in; text the user sent with the
    decisions (DCAF repeats the question there) stays in the conversation before it."""
    decisions = messages[-1]
    before = messages[-2] if len(messages) >= 2 else None
    if before is not None and before.role == "assistant" and before.data.tool_calls:
        before.data.tool_calls += proposals
        return
    paused = WireMessage(role="assistant", data=WireData(tool_calls=proposals))
    tail: list[WireMessage] = [paused, decisions]
    if decisions.content:
        question = decisions.model_copy(update={"data": WireData()})
        tail.insert(0, question)
        decisions.content = ""
    messages[-1:] = tail


def _signed(
    proposal: WireToolCall, decision: WireToolCall, session_digest: str
) -> tuple[Proposal, str | None]:
    """What the signature must cover, and the signature. The paused message's copy is
    authoritative; a client that dropped the signature there but echoed it in the decision
    (which repeats the call) is checked on that one."""
    intent = proposal.intent or decision.intent or "approval"  # what DCAF's flows drop
    signed = Proposal(proposal.id, proposal.name, intent, proposal.input, session_digest)
    return signed, proposal.signature or decision.signature


def _claim(signature: str, label: str, execute: bool, signer: Signer) -> Claim:
    stamp = Stamp.parse(signature)
    if stamp is None:  # not after it verified
        raise HTTPProblem(403, f"refused {label}: its signature is malformed")
    refusal = f"refused to {'run' if execute else 'reject'} {label}: {ALREADY_USED}"
    return Claim(stamp.mac, signer.used_until(stamp), refusal)


def _rejected(
    proposal: WireToolCall, decision: WireToolCall, session_digest: str, signer: Signer
) -> list[Claim]:
    """A rejection runs nothing, so an unsigned one is let through; a signed one uses up
    its proposal like an approval."""
    signed, signature = _signed(proposal, decision, session_digest)
    if signature is None or signer.proposal_problem(signed, signature) is not None:
        return []
    return [_claim(signature, f"{proposal.name} ({proposal.id})", False, signer)]


def _check(
    proposal: WireToolCall, decision: WireToolCall, session_digest: str, signer: Signer
) -> Claim:
    label = f"{proposal.name} ({proposal.id})"
    if decision.name != proposal.name:
        raise HTTPProblem(
            403, f"refused to run {label}: the decision names {decision.name!r} instead"
        )
    signed, signature = _signed(proposal, decision, session_digest)
    problem = signer.proposal_problem(signed, signature)
    if problem is not None or signature is None:
        raise HTTPProblem(403, f"refused to run {label}: {problem}")
    claim = _claim(signature, label, True, signer)
    if canonical(decision.input) == canonical(proposal.input):  # strictly: 1 is not true
        return claim
    if signed.intent == "missing_arguments" and _fills_only(proposal.input, decision.input):
        proposal.input = dict(decision.input)  # the runtime then sees no edit
        return claim
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
