"""DCAF's `ChatMessage`: one conversation message, as agent code builds them for
`agent.run(...)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass
class ChatMessage:
    role: Literal["user", "assistant", "system"]
    content: str
    context: dict[str, Any] | None = None  # the platform context, on a user message
    data: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.context:
            out["platform_context"] = dict(self.context)
        if self.data:
            out["data"] = dict(self.data)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatMessage:
        return cls(
            data["role"],
            str(data.get("content", "")),
            data.get("platform_context") or data.get("context"),
            data.get("data"),
        )

    @classmethod
    def user(cls, content: str, context: dict[str, Any] | None = None) -> ChatMessage:
        return cls("user", content, context)

    @classmethod
    def assistant(cls, content: str) -> ChatMessage:
        return cls("assistant", content)

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        return cls("system", content)
