"""`--record-model FILE`: keep a real model's replies as a `script:` file while chatting, so
the same conversation replays later with `--model script:FILE` (no key, no network).

The replies of a turn are written when the turn is kept (`commit`) and dropped when it is
rolled back (`discard`), so the script stays in step with the session file. Each reply
carries the user message it answered as `expect`, which the script model checks. An
existing script is continued, as the session file is.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from dcaf_cli.errors import SessionSaveError, UsageError
from dcaf_cli.models.base import Model, ModelReply, ModelRequest, TextSink
from dcaf_cli.models.script import load_script


class RecordingModel:
    """A model that answers as `inner` does and remembers each reply for the script."""

    def __init__(self, inner: Model, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.path = path
        self.kept: list[dict[str, Any]] = _existing(path)
        self.pending: list[dict[str, Any]] = []

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        reply = await self.inner.complete(request, on_text)
        self.pending.append(_scripted(reply, request))
        return reply

    def commit(self) -> None:
        """Write the kept replies and this turn's to the script (atomically)."""
        if not self.pending:
            return
        replies = self.kept + self.pending
        _write(self.path, {"replies": replies})
        self.kept, self.pending = replies, []

    def discard(self) -> None:
        """Forget this turn's replies: the turn was rolled back."""
        self.pending = []


def _existing(path: Path) -> list[dict[str, Any]]:
    if not path.exists() or path.stat().st_size == 0:
        return []
    if path.suffix.lower() not in (".json", ""):
        raise UsageError(f"--record-model writes JSON; name the file {path.with_suffix('.json')}")
    script = load_script(path)  # one-line error when it is not a script
    return [reply.model_dump(exclude_defaults=True) for reply in script.replies]


def _scripted(reply: ModelReply, request: ModelRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if reply.text:
        out["text"] = reply.text
    if reply.tool_calls:
        out["tool_calls"] = [
            {"name": call.name, "arguments": call.arguments, "id": call.id}
            for call in reply.tool_calls
        ]
    asked = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    if asked.strip():
        out["expect"] = asked
    return out


def _write(path: Path, data: dict[str, Any]) -> None:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n"
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SessionSaveError(
            f"cannot write the model script {path}: {exc.strerror or exc}"
        ) from None
