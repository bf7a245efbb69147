"""`TurnReport`: what one turn did, for rendering and for `--json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dcaf_cli.errors import DcafError
from dcaf_cli.runtime.results import ExecutedToolCall
from dcaf_cli.session.diff import Change


@dataclass(slots=True)
class TurnReport:
    """What one turn did, for rendering (and for `--json`)."""

    input: str
    text: str = ""
    executed: list[ExecutedToolCall] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = None
    revision: int | None = None  # the revision saved, None when not saved
    save_error: DcafError | None = None
    secrets: list[str] = field(default_factory=list)
    notice: str | None = None
    turn: int | None = None  # the turn's number in the file

    @property
    def ok(self) -> bool:
        return self.error is None and self.save_error is None

    def to_json(self, *, reveal: bool = False) -> dict[str, Any]:
        """The turn for `--json`; secrets are masked as in every other view unless `reveal`
        (so a redacted `diff` no longer rebuilds the file's data: that is what --reveal is for).
        """
        from dcaf_cli.session.diff import to_patch
        from dcaf_cli.session.redact import redact, redact_arguments, redact_message

        patch = to_patch(self.changes)
        calls = [c.to_wire() for c in self.executed]
        reply, typed = self.text, self.input
        if not reveal:
            patch = [
                {**op, "value": redact(op["value"], change.path[-1] if change.path else None)}
                if "value" in op
                else op
                for op, change in zip(patch, self.changes, strict=True)
            ]
            calls = [{**redact(c), "input": redact_arguments(c["input"])} for c in calls]
            reply, typed = redact(reply), redact(typed)
        error = self.error or (str(self.save_error) if self.save_error else None)
        return {
            "input": typed,
            "reply": reply,
            "tool_calls": calls,
            "diff": patch,
            "revision": self.revision,
            "turn": self.turn,
            "error": redact_message(error) if error else None,  # masked even with reveal
        }
