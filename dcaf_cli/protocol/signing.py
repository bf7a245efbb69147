"""Signatures that let a stateless server recognise its own proposals and sessions.

**Approvals.** Every call the server proposes for approval (`execute: false`) carries
`signature = "v2.<issued>.<nonce>.<mac>"`, an HMAC-SHA256 over the call's id, name, intent
and canonical input, the SHA-256 of the session returned with the proposal, the time it
was issued and a random nonce. A decision may run a call only if the proposal it answers
verifies, so a client cannot invent a call or change its arguments, and a proposal is good
only against the session it was made with. Proposals also expire (`ttl`, an hour by
default).

The nonce makes every proposal distinct, even the same call proposed twice in one second
against the same session, so the MAC names one proposal: `approvals` records it in a
ledger (see `ledger`) when a decision uses it, and refuses it afterwards. That is what
stops a byte-identical retry of the approving request, which carries the pre-execution
session and so still verifies.

**Keys.** With a secret (`DCAF_SESSION_SECRET`) both keys are derived from it, so every
worker and every host behind a load balancer agrees, and restarts keep proposals valid.
Without one, `dcaf serve` draws a random key per invocation and hands it to its workers
(`DCAF_APPROVAL_KEY`), so `--workers N` works on one host; a restart invalidates pending
proposals (the client is told to ask again). A bare `create_app()` without either uses a
random key per process: fine for one process, wrong for several.

**Sessions.** With a secret the server also signs each session it returns
(`data.session_signature = "v2.<issued>.<nonce>.<mac>"`, a MAC over the session's
SHA-256, the time and a random nonce) and refuses a non-empty session whose signature
does not match, for deployments where the client must not edit session state. A signed
session is also bound to freshness: it expires (`session_ttl`, a day by default), and
each signed state is accepted once. The server records the MAC of the state a request
carries in the ledger before the turn runs, and the reply carries a new state with a new
signature; sending an older state again (a second checkout with the same signed cart,
or a retry after the reply was lost) is refused with 409. What this does not cover is
listed in docs/protocol.md ("Security").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VERSION = "v2"  # of session signatures (v1 had no time and no nonce: it replayed forever)
PROPOSAL_VERSION = "v2"  # of proposal signatures (v1 had no nonce)
DEFAULT_TTL = 3600.0
DEFAULT_SESSION_TTL = 86400.0
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


def _keys(secret: str | bytes) -> tuple[bytes, bytes | None]:
    """The (approval, session) keys of a secret; an approval key (bytes) signs no session."""
    if isinstance(secret, bytes):
        return secret, None
    return _derive(secret, "approval"), _derive(secret, "session")


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

    def payload(self, issued: int, nonce: str) -> list[Any]:
        return [
            "dcaf-approval",
            PROPOSAL_VERSION,
            issued,
            nonce,
            self.id,
            self.name,
            self.intent,
            self.input,
            self.session_digest,
        ]


@dataclass(frozen=True, slots=True)
class Stamp:
    """The parts of a proposal signature: `v2.<issued>.<nonce>.<mac>`."""

    issued: int
    nonce: str
    mac: str

    @classmethod
    def parse(cls, signature: str, version: str = PROPOSAL_VERSION) -> Stamp | None:
        parts = signature.split(".")
        if len(parts) != 4 or parts[0] != version or not parts[1].isdigit():
            return None
        if not parts[2] or not parts[3]:
            return None
        return cls(int(parts[1]), parts[2], parts[3])


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs with its keys and verifies with them or with `previous` ones: rotating a
    secret (new first, old after it, on every replica) keeps what the old one signed
    valid until it expires, so a rolling restart invalidates no pending approval."""

    approval_key: bytes
    session_key: bytes | None = None  # only with a secret: then sessions are signed too
    ttl: float = DEFAULT_TTL
    clock: Callable[[], float] = field(default=time.time)
    session_ttl: float = DEFAULT_SESSION_TTL
    previous: tuple[tuple[bytes, bytes | None], ...] = ()  # (approval, session) keys

    @classmethod
    def create(
        cls,
        secret: str | None = None,
        approval_key: bytes | None = None,
        ttl: float = DEFAULT_TTL,
        session_ttl: float = DEFAULT_SESSION_TTL,
        previous: Sequence[str | bytes] = (),
    ) -> Signer:
        """A signer from a secret (or an approval key); `previous` secrets (or approval
        keys) still verify what they signed."""
        old = tuple(_keys(item) for item in previous)
        if secret:
            approval, session = _keys(secret)
            return cls(approval, session, ttl, session_ttl=session_ttl, previous=old)
        key = approval_key or secrets.token_bytes(32)
        return cls(key, None, ttl, session_ttl=session_ttl, previous=old)

    @property
    def signs_sessions(self) -> bool:
        return self.session_key is not None

    # -- proposals -----------------------------------------------------------------------

    def sign_proposal(self, proposal: Proposal) -> str:
        issued, nonce = int(self.clock()), secrets.token_urlsafe(12)  # 16 characters, no dots
        mac = _mac(self.approval_key, proposal.payload(issued, nonce))
        return f"{PROPOSAL_VERSION}.{issued}.{nonce}.{mac}"

    def proposal_problem(self, proposal: Proposal, signature: str | None) -> str | None:
        """Why `signature` does not approve `proposal`, or None when it does."""
        if not signature:
            return "it carries no signature from this server"
        stamp = Stamp.parse(signature)
        if stamp is None:
            return "its signature is malformed (or from an older dcaf); ask again"
        issued = stamp.issued
        payload = proposal.payload(issued, stamp.nonce)
        keys = [self.approval_key, *(approval for approval, _ in self.previous)]
        if not any(hmac.compare_digest(_mac(key, payload), stamp.mac) for key in keys):
            return (
                "its signature does not match (not proposed by this server, changed since, "
                "or proposed against another session state)"
            )
        age = self.clock() - issued
        if age > self.ttl or age < -CLOCK_SKEW:
            return "the proposal has expired; ask again"
        return None

    def used_until(self, stamp: Stamp) -> float:
        """Until when a ledger must remember a used proposal: while it could still verify
        here, or on a host whose clock is up to CLOCK_SKEW behind."""
        return stamp.issued + self.ttl + CLOCK_SKEW

    # -- sessions ------------------------------------------------------------------------

    def sign_session(self, session: Mapping[str, Any]) -> str | None:
        if self.session_key is None:
            return None
        issued, nonce = int(self.clock()), secrets.token_urlsafe(12)
        return f"{VERSION}.{issued}.{nonce}.{self._session_mac(session, issued, nonce)}"

    def _session_mac(
        self, session: Mapping[str, Any], issued: int, nonce: str, key: bytes | None = None
    ) -> str:
        key = key or self.session_key
        assert key is not None
        return _mac(key, ["dcaf-session", VERSION, issued, nonce, digest(session)])

    def session_problem(self, session: Mapping[str, Any], signature: object) -> str | None:
        """Why an incoming session must be refused, or None (always None without a secret).

        Freshness beyond the expiry (each state accepted once) is the ledger's part: see
        `session_claim`."""
        if self.session_key is None or not session:
            return None
        if not isinstance(signature, str) or not signature:
            return "the session carries no `data.session_signature` (this server signs sessions)"
        stamp = Stamp.parse(signature, VERSION)
        if stamp is None:
            return "the session's signature is malformed (or from an older dcaf); start over"
        keys = [self.session_key, *(key for _, key in self.previous if key is not None)]
        macs = (self._session_mac(session, stamp.issued, stamp.nonce, key) for key in keys)
        if not any(hmac.compare_digest(mac, stamp.mac) for mac in macs):
            return "the session's signature does not match: it was changed outside the server"
        age = self.clock() - stamp.issued
        if age > self.session_ttl or age < -CLOCK_SKEW:
            return "the signed session has expired; start a new conversation"
        return None

    def session_claim(self, session: Mapping[str, Any], signature: object) -> Claim | None:
        """What the ledger records for a verified signed session, so that it is accepted
        once: its MAC, kept while the session could still verify."""
        if self.session_key is None or not session or not isinstance(signature, str):
            return None
        stamp = Stamp.parse(signature, VERSION)
        if stamp is None:
            return None
        until = stamp.issued + self.session_ttl + CLOCK_SKEW
        return Claim(f"session.{stamp.mac}", until, SESSION_USED)


SESSION_USED = (
    "this session state was already used, and a newer one was issued: send the session "
    "(and data.session_signature) of the latest reply"
)


@dataclass(frozen=True, slots=True)
class Claim:
    """A ledger entry a request needs: its key, until when it is kept, and the refusal
    to send when it is already there."""

    key: str
    until: float
    refusal: str
