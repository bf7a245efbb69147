"""DCAF's `Agent(...)`: its arguments mapped onto dcaf-cli's agent, models and settings.

`provider=` and `model=` become a model spec (`bedrock:…`, `anthropic:…`, `openai:…`,
`ollama:…`); a model id without a provider is a Bedrock id, DCAF's default provider.
`aws_profile`, `aws_region` and `api_key` become the model's options; `system_context`
(a string, or a function of the run's context) is added to the system prompt of each run.
The other arguments are accepted and listed once, by `notes`, as having no effect here.
`--model` on the command line still wins over the file's model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dcaf_cli.models.base import ModelOptions
from dcaf_cli.runtime.agent import Agent, Messages
from dcaf_cli.runtime.results import AgentResponse
from dcaf_cli.runtime.runner import run_sync

PROVIDERS = {"bedrock": "bedrock", "anthropic": "anthropic", "openai": "openai", "ollama": "ollama"}
# Arguments DCAF documents that mean nothing to dcaf-cli (their DCAF defaults are fine).
NO_EFFECT_DEFAULTS: dict[str, Any] = {
    "framework": "agno",
    "model_config": None,
    "on_interceptor_error": "abort",
    "aws_access_key": None,
    "aws_secret_key": None,
    "google_project_id": None,
    "google_location": None,
    "system_events": None,
    "on_event": None,
}


def model_spec(provider: str | None, model: str | None) -> str | None:
    """The dcaf-cli model spec for DCAF's `provider=` and `model=` (None: the default)."""
    if model is None and provider is None:
        return None
    if provider is None:
        provider = "bedrock"  # DCAF's default provider: bare ids are Bedrock model ids
    if provider not in PROVIDERS:
        return None  # reported by `notes`: dcaf-cli has no such provider
    return f"{PROVIDERS[provider]}:{model}" if model else None


class DcafAgent(Agent):
    """An `Agent` built with DCAF's arguments; `run` is awaitable inside an event loop and
    synchronous outside one, as DCAF's docs use it both ways."""

    def __init__(  # DCAF's argument names; past the first three, by name only
        self,
        tools: Sequence[Any] | None = None,
        model: str | None = None,
        provider: str | None = None,
        *,
        system_prompt: str | None = None,
        system_context: str | Callable[[dict[str, Any]], str] | None = None,
        request_interceptors: Any = None,
        response_interceptors: Any = None,
        aws_profile: str | None = None,
        aws_region: str | None = None,
        api_key: str | None = None,
        name: str | None = None,
        description: str | None = None,
        **other: Any,
    ) -> None:
        super().__init__(
            list(tools or []),
            model_spec(provider, model),
            system_prompt or "",
            request_interceptors,
            response_interceptors,
            name=name or "dcaf-agent",
            model_options=ModelOptions(api_key=api_key, region=aws_region, profile=aws_profile),
        )
        self.provider = provider
        self.description = description or system_prompt or "A DCAF agent"
        self.system_context = system_context
        self.notes = _notes(provider, other)

    def system_for(self, context: Mapping[str, Any]) -> str:
        extra = self.system_context
        text = extra(dict(context)) if callable(extra) else extra
        return "\n\n".join(p for p in (self.system_prompt, text) if p)

    def run(  # DCAF's signature: awaitable in a loop
        self,
        messages: Messages | str,
        context: Mapping[str, Any] | None = None,
        session: Any = None,
        **kwargs: Any,
    ) -> Any:
        coro = self.arun(plain_messages(messages), context=context, session=session, **kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return run_sync(coro)
        return coro

    async def chat(  # type: ignore[override]  # DCAF's chat is a coroutine
        self, messages: Messages | str, context: Any = None, session: Any = None
    ) -> dict[str, Any]:
        response: AgentResponse = await self.arun(
            plain_messages(messages), context=context, session=session
        )
        return response.to_message()


def plain_messages(messages: Messages | str) -> list[Any]:
    """Messages as dicts: DCAF also takes a string, or ChatMessage objects."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [m.to_dict() if hasattr(m, "to_dict") else m for m in messages]


def _notes(provider: str | None, other: Mapping[str, Any]) -> list[str]:
    notes = []
    if provider is not None and provider not in PROVIDERS:
        known = ", ".join(PROVIDERS)
        notes.append(f"provider={provider!r}: dcaf-cli offers {known}")
    for key, value in other.items():
        if key not in NO_EFFECT_DEFAULTS:
            raise TypeError(f"Agent() got an unexpected keyword argument {key!r}")
        if value != NO_EFFECT_DEFAULTS[key]:
            notes.append(f"{key}=...")
    return notes
