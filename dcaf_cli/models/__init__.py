"""Model specs (`offline`, `script:FILE`, `openai:MODEL`, ...) and how to build them.

Providers are imported only when asked for, so their SDKs stay optional and `dcaf --help`
stays fast. A missing SDK is a one-line error naming the extra to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from dcaf_cli.errors import ProviderMissingError, UsageError
from dcaf_cli.models.base import Model, ModelOptions


@dataclass(frozen=True, slots=True)
class Provider:
    prefix: str
    module: str  # dcaf_cli.models.<module> defines `create(name, options) -> Model`
    sdk: str | None  # the import that must work, or None
    extra: str | None  # the pip extra that brings it
    summary: str


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "offline", "offline", None, None, "embedded, deterministic, no key: matches text to tools"
    ),
    Provider("script", "script", None, None, "replays canned model turns from a JSON or YAML file"),
    Provider(
        "openai",
        "openai_compat",
        "openai",
        "openai",
        "any OpenAI-compatible chat-completions server",
    ),
    Provider(
        "ollama",
        "openai_compat",
        "openai",
        "openai",
        "a local Ollama server (OpenAI-compatible API)",
    ),
    Provider("anthropic", "anthropic", "anthropic", "anthropic", "Anthropic's Messages API"),
    Provider("bedrock", "bedrock", "boto3", "bedrock", "AWS Bedrock Converse"),
)


def find_provider(spec: str) -> Provider:
    prefix = spec.split(":", 1)[0]
    for provider in PROVIDERS:
        if provider.prefix == prefix:
            return provider
    known = ", ".join(f"{p.prefix}" + ("" if p.prefix == "offline" else ":…") for p in PROVIDERS)
    guess = _provider_guess(spec)
    hint = f"did you mean {guess}? " if guess else ""
    raise UsageError(f"unknown model {spec!r}", hint=f"{hint}use one of: {known}")


# Model names that say their provider: `gpt-4o` is `openai:gpt-4o`.
_FAMILIES = (
    (("gpt-", "o1", "o3", "o4", "chatgpt"), "openai"),
    (("claude",), "anthropic"),
    (("llama", "qwen", "mistral", "gemma", "phi", "deepseek"), "ollama"),
    (("anthropic.", "amazon.", "meta.", "us.", "eu."), "bedrock"),
)


def _provider_guess(spec: str) -> str | None:
    if ":" in spec and spec.split(":", 1)[0] in {p.prefix for p in PROVIDERS}:
        return None
    name = spec.lower()
    for starts, prefix in _FAMILIES:
        if name.startswith(starts):
            return f"{prefix}:{spec}"
    return None


def resolve_model(spec: str, options: ModelOptions | None = None) -> Model:
    """Build the model a spec names; `offline` when the spec is empty."""
    spec = spec.strip() or "offline"
    provider = find_provider(spec)
    if provider.sdk is not None:
        try:
            importlib.import_module(provider.sdk)
        except ImportError:
            raise ProviderMissingError(
                f"the {provider.prefix} provider needs the {provider.sdk!r} package",
                hint=f"pip install 'dcaf-cli[{provider.extra}]'",
            ) from None
    module = importlib.import_module(f"dcaf_cli.models.{provider.module}")
    model: Model = module.create(spec, options or ModelOptions())
    return model
