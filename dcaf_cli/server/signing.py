"""Signatures that let a stateless server recognise its own proposals and sessions.

**Approvals.** Every call the server proposes for approval (`execute: false`) carries
`signature = "v1.<issued>.<mac>"`, an HMAC-SHA256 over the call's id, name, intent and
canonical input, the SHA-256 of the session returned with the proposal, and the time it
was issued. A decision may run a call only if the proposal it answers verifies, so a
client cannot invent a call or change its arguments, and a proposal is good only against
the session it was made with: once the approved tool has run and changed the session, a
replay of the approval against the new session no longer verifies. Proposals also expire
(`ttl`, an hour by default).

What no stateless server can tell apart is a byte-identical retry of the approving
request with the pre-execution session: it is the same request. For a tool that leaves
the session unchanged, that is the only protection the TTL bounds; such tools should
record what they did in the session (as `execute_deployment` does) or be idempotent.

**Keys.** With a secret (`DCAF_SESSION_SECRET`) both keys are derived from it, so every
worker and every host behind a load balancer agrees, and restarts keep proposals valid.
Without one, `dcaf serve` draws a random key per invocation and hands it to its workers
(`DCAF_APPROVAL_KEY`), so `--workers N` works on one host; a restart invalidates pending
proposals (the client is told to ask again). A bare `create_app()` without either uses a
random key per process: fine for one process, wrong for several.

**Sessions.** With a secret the server also signs each session it returns
(`data.session_signature`) and refuses a non-empty session whose signature does not
match, for deployments where the client must not edit session state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

VERSION = "v1"
DEFAULT_TTL = 3600.0
CLOCK_SKEW = 60.0  # seconds a proposal may seem to come from the future (other hosts)


def canonical(value: object) -> bytes:
    """One byte string per JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest(value: object) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def _mac(key: bytes, payload: object) -> str:
    raw = hmac.new(key, canonical(payload), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"dcaf {purpose} key".encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a signature covers: the call as proposed, and where (`session_digest`)."""

    id: str
    name: str
    intent: str
    input: Mapping[str, Any]
    session_digest: str

    def payload(self, issued: int) -> list[Any]:
        return [
            "dcaf-approval",
            VERSION,
            issued,
            self.id,
            self.name,
            self.intent,
            self.input,
            self.session_digest,
        ]


@dataclass(frozen=True, slots=True)
class Signer:
    approval_key: bytes
    session_key: bytes | None = None  # only with a secret: then sessions are signed too
    ttl: float = DEFAULT_TTL
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def create(
        cls, secret: str | None = None, approval_key: bytes | None = None, ttl: float = DEFAULT_TTL
    ) -> Signer:
        if secret:
            return cls(_derive(secret, "approval"), _derive(secret, "session"), ttl)
        return cls(approval_key or secrets.token_bytes(32), None, ttl)

    @property
    def signs_sessions(self) -> bool:
        return self.session_key is not None

    # -- proposals -----------------------------------------------------------------------

    def sign_proposal(self, proposal: Proposal) -> str:
        issued = int(self.clock())
        return f"{VERSION}.{issued}.{_mac(self.approval_key, proposal.payload(issued))}"

    def proposal_problem(self, proposal: Proposal, signature: str | None) -> str | None:
        """Why `signature` does not approve `proposal`, or None when it does."""
        if not signature:
            return "it carries no signature from this server"
        version, _, rest = signature.partition(".")
        issued_text, _, mac = rest.partition(".")
        if version != VERSION or not issued_text.isdigit() or not mac:
            return "its signature is malformed"
        issued = int(issued_text)
        expected = _mac(self.approval_key, proposal.payload(issued))
        if not hmac.compare_digest(expected, mac):
            return (
                "its signature does not match (not proposed by this server, changed since, "
                "or proposed against another session state)"
            )
        age = self.clock() - issued
        if age > self.ttl or age < -CLOCK_SKEW:
            return "the proposal has expired; ask again"
        return None

    # -- sessions ------------------------------------------------------------------------

    def sign_session(self, session: Mapping[str, Any]) -> str | None:
        if self.session_key is None:
            return None
        return f"{VERSION}.{_mac(self.session_key, ['dcaf-session', VERSION, digest(session)])}"

    def session_problem(self, session: Mapping[str, Any], signature: object) -> str | None:
        """Why an incoming session must be refused, or None (always None without a secret)."""
        if self.session_key is None or not session:
            return None
        if not isinstance(signature, str) or not signature:
            return "the session carries no `data.session_signature` (this server signs sessions)"
        expected = self.sign_session(session)
        if expected is None or not hmac.compare_digest(expected, signature):
            return "the session's signature does not match: it was changed outside the server"
        return None
