"""`Conversation`: a user turn over a session file, recorded and saved (see the package)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from dcaf_cli.conversation.report import TurnReport
from dcaf_cli.errors import DcafError, SessionLockedError
from dcaf_cli.models.base import ToolCall
from dcaf_cli.protocol.wire import WireMessage, parse_messages
from dcaf_cli.runtime.agent import AgentLike, Decide, complete_turn
from dcaf_cli.runtime.execution import execute_call
from dcaf_cli.runtime.results import (
    AgentResponse,
    Decision,
    EventSink,
    PendingToolCall,
)
from dcaf_cli.runtime.turn import TurnOptions
from dcaf_cli.session.jsontext import scrub_text
from dcaf_cli.session.jsonvalue import unencodable
from dcaf_cli.session.pathedit import delete_at, set_at
from dcaf_cli.session.recorder import Recorder
from dcaf_cli.session.redact import secrets_in_changes
from dcaf_cli.session.session import Session
from dcaf_cli.store import approvals, history, records
from dcaf_cli.store.filestore import SessionStore
from dcaf_cli.store.sessionfile import SessionFile


class ModelLog(Protocol):
    """Something that keeps what the model said during a turn (`--record-model`): told to
    keep it when the turn is kept, and to drop it when the turn is rolled back."""

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class Conversation:
    def __init__(
        self,
        agent: AgentLike,
        doc: SessionFile,
        store: SessionStore | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        model_log: ModelLog | None = None,
    ) -> None:
        self.agent = agent
        self.doc = doc
        self.store = store
        self.context = dict(context or {})
        self.model_log = model_log
        self.unsaved = False
        # `--approve no` in a script: every call that asks is refused, standing or not.
        self.honour_standing_approvals = True
        self._granted: list[str] | None = None  # "always" answers of the running turn
        self._told_missing_session = False
        # Each message of the file, validated once: `id(message) -> (message, parsed)`.
        self._parsed: dict[int, tuple[dict[str, Any], WireMessage]] = {}

    # -- facts for the toolbar and the commands ----------------------------------------

    @property
    def session(self) -> Session:
        """The live session: the document's own, so what turns change is what is saved."""
        return self.doc.live_session()

    @property
    def path(self) -> Path | None:
        return self.store.path if self.store is not None else None

    @property
    def revision(self) -> int:
        return self.doc.revision

    @property
    def turns(self) -> int:
        return len(self.doc.turns)

    @property
    def always_approve(self) -> frozenset[str]:
        return frozenset(approvals.standing(self.doc))

    @property
    def accepts_edits(self) -> bool:
        """Whether an approval may change a call's arguments (a server refuses that)."""
        return bool(getattr(self.agent, "accepts_edits", True))

    def approve_always(self, tool_name: str) -> None:
        """Remember in the file (not in the session) that this tool needs no approval.

        Granted during a turn, it belongs to that turn: a failed or cancelled turn takes
        it back, and undoing the turn revokes it.
        """
        new = approvals.grant(self.doc, [tool_name])
        if self._granted is not None:
            self._granted += new

    def revoke_approvals(
        self, names: list[str], *, everything: bool = False
    ) -> tuple[list[str], TurnReport]:
        """Revoke standing approvals and save; the names revoked, and how the save went."""
        gone = approvals.revoke_named(self.doc, names, everything=everything)
        report = TurnReport("/approvals revoke")
        if gone:
            self._save(report)
        return gone, report

    # -- turns ---------------------------------------------------------------------------

    async def send(
        self, text: str, decide: Decide, on_event: EventSink | None = None
    ) -> TurnReport:
        """Run one user turn and save it. Cancellation propagates with nothing changed."""
        if unencodable(text):  # it could never be saved: refused before anything runs
            report = TurnReport(scrub_text(text)[0])
            report.error = (
                "the message is not valid UTF-8 text (undecodable bytes or a lone surrogate); "
                "nothing ran"
            )
            return report
        standing = self.always_approve if self.honour_standing_approvals else frozenset()
        options = TurnOptions(always_approve=standing)
        self._granted = []
        try:
            outcome = await complete_turn(
                self.agent,
                self._history(),
                {"role": "user", "content": text},
                self.session,
                _standing_first(decide, standing),
                context=self.context,
                on_event=on_event,
                options=options,
            )
        except BaseException:
            approvals.revoke(self.doc, self._granted)
            self._settle_model_log(kept=False)
            raise
        finally:
            granted, self._granted = self._granted, None
        response = outcome.response
        report = TurnReport(text, response.text, outcome.executed, response.changes)
        if response.error is not None:
            approvals.revoke(self.doc, granted)
            self._settle_model_log(kept=False)
            report.error, report.exception = response.error, response.exception
            return report
        report.notice = self._missing_session_notice(response)
        # What a model, tool or server said is kept as said, unless it is not Unicode:
        # then U+FFFD stands in, so the file stays saveable (the session is always).
        (messages, calls, reply), scrubbed = scrub_text(
            [outcome.messages, [c.to_wire() for c in outcome.executed], response.text]
        )
        if scrubbed:
            report.text = reply
            report.notice = "the reply held text that is not valid Unicode; saved with \ufffd"
        self.doc.messages.extend(messages)
        record = history.record_turn(
            self.doc,
            input=text,
            changes=response.changes,
            tool_calls=calls,
            reply=reply,
            messages=messages,
        )
        if granted:
            record[approvals.TURN_FIELD] = granted
        report.turn = record["n"]
        report.secrets = secrets_in_changes(response.changes)
        self._save(report)
        # Kept even when the save failed: the turn is in memory and goes with the next save.
        self._settle_model_log(kept=True, report=report)
        return report

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any], *, approve: bool = False
    ) -> TurnReport:
        """One direct tool call (from an MCP client), recorded and saved as a turn of its
        own. A tool that asks for approval runs only with `approve` or a standing approval;
        otherwise the call is refused with the reason, and nothing is recorded."""
        found = next((t for t in self.agent.tools if t.name == name), None)
        report = TurnReport(f"mcp: {name}")
        standing = self.honour_standing_approvals and name in self.always_approve
        if found is not None and found.requires_approval and not (approve or standing):
            report.error = (
                f"{name} asks for approval before it runs, and this server was started "
                "without --approve yes; nothing was run"
            )
            return report
        call = ToolCall(f"mcp_{self.turns + 1}", name, dict(arguments))
        with Recorder(self.session) as recorder:
            executed = await execute_call(call, found, self.session, None, self.context)
        report.executed, report.changes = [executed], recorder.changes
        report.text, report.error = executed.output, executed.error
        record = history.record_turn(
            self.doc,
            input=report.input,
            changes=report.changes,
            tool_calls=[executed.to_wire()],
            reply=None,
        )
        report.turn = record["n"]
        report.secrets = secrets_in_changes(report.changes)
        self._save(report)
        return report

    def edit(self, label: str, key: str, value: Any = None, *, delete: bool = False) -> TurnReport:
        """`/set` and `/del`: change the value at a key path (`cart[0].quantity`) by hand,
        recorded as a turn (so it can be undone)."""
        with Recorder(self.session) as recorder:
            if delete:
                delete_at(self.session, key)
            else:
                set_at(self.session, key, value)
        changes = recorder.changes
        report = TurnReport(label, changes=changes)
        if changes:
            record = history.record_turn(
                self.doc, input=label, changes=changes, tool_calls=[], reply=None, kind="edit"
            )
            report.turn = record["n"]
            report.secrets = secrets_in_changes(changes)
            self._save(report)
        return report

    def undo(self, n: int = 1) -> TurnReport:
        """Reverse the last `n` turns (session and messages) and save."""
        with Recorder(self.session) as recorder:
            history.undo_turns(self.doc, n)
        report = TurnReport(f"/undo {n}", changes=recorder.changes)
        self._save(report)
        return report

    def clear_messages(self) -> None:
        """Forget the conversation (the session data stays).

        Turn records keep their session patches, so turns can still be undone, and take
        copies of the tool calls and replies their messages held; the messages they added
        are gone, so undoing them removes none.
        """
        records.keep_without_messages(self.doc)
        self.doc.messages.clear()
        for turn in self.doc.turns:
            turn["messages"] = 0

    def save_as(self, path: Path) -> TurnReport:
        """Write the conversation to another file, which becomes the file of this REPL."""
        store = SessionStore(path)
        store.open()
        old, self.store = self.store, store
        report = TurnReport(f"/save {path}")
        self._save(report)
        if report.save_error is not None:
            store.close()
            self.store = old
        elif old is not None:
            old.close()
        return report

    def save(self) -> TurnReport:
        """Save now, as after a turn (to retry a save that failed)."""
        report = TurnReport("/save")
        self._save(report)
        return report

    def reload(self) -> None:
        """Drop what is in memory and read the file again (after it changed on disk)."""
        if self.store is None:
            return
        self.doc = self.store.reload()
        self.unsaved = False

    def close(self) -> None:
        """Release the file's writer lock and stop what the agent started (MCP servers)."""
        try:
            stop = getattr(self.agent, "close", None)
            if callable(stop):
                stop()
        finally:
            if self.store is not None:
                self.store.close()

    # -- internals -----------------------------------------------------------------------

    def _settle_model_log(self, *, kept: bool, report: TurnReport | None = None) -> None:
        if self.model_log is None:
            return
        if not kept:
            self.model_log.discard()
            return
        try:
            self.model_log.commit()
        except DcafError as exc:  # the turn itself is kept; say what was not
            if report is not None:
                report.notice = str(exc)

    def _save(self, report: TurnReport) -> None:
        if self.store is None:
            self.unsaved = True
            return
        try:
            report.revision = self.store.save(self.doc)
            self.unsaved = False
        except (DcafError, SessionLockedError) as exc:
            report.save_error = exc
            self.unsaved = True

    def _history(self) -> list[WireMessage]:
        """The conversation so far, as wire messages for the agent.

        A message is validated the first time a turn sees it, not on every turn: 2,000
        messages cost ~60 ms to validate. Messages are never changed once in the file
        (turns append them, undo and /clear remove them), so one validated is valid for
        good; the message object itself is the key (kept alive here, so its id is its own).
        """
        parsed: dict[int, tuple[dict[str, Any], WireMessage]] = {}
        out: list[WireMessage] = []
        for message in self.doc.messages:
            known = self._parsed.get(id(message))
            wire = known[1] if known and known[0] is message else parse_messages([message])[0]
            parsed[id(message)] = (message, wire)
            out.append(wire)
        self._parsed = parsed
        return out

    def _missing_session_notice(self, response: AgentResponse) -> str | None:
        if not response.data.get("session_missing") or self._told_missing_session:
            return None
        self._told_missing_session = True
        return "the server returned no session; the local session is kept as it was"


def _standing_first(decide: Decide, standing: frozenset[str]) -> Decide:
    """`decide`, except that calls with a standing approval run without asking (a local
    agent never pauses for them; a server does not know about them)."""
    if not standing:
        return decide

    async def deciding(pending: list[PendingToolCall]) -> list[Decision]:
        ask = [p for p in pending if p.name not in standing or p.reason != "approval"]
        answers = {d.id: d for d in (await decide(ask) if ask else [])}
        return [answers.get(p.id) or Decision(p.id, True) for p in pending]

    return deciding
