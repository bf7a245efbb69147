"""`dcaf --version`: the version and which optional extras are installed."""

from __future__ import annotations

import importlib.util

from dcaf_cli import __version__

EXTRAS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "boto3",
    "server": "fastapi",
    "yaml": "yaml",
    "fast": "orjson",
}


def installed_extras() -> dict[str, bool]:
    return {extra: importlib.util.find_spec(module) is not None for extra, module in EXTRAS.items()}


def version_text() -> str:
    extras = installed_extras()
    have = ", ".join(name for name, ok in extras.items() if ok) or "none"
    missing = [name for name, ok in extras.items() if not ok]
    line = f"dcaf {__version__} (extras: {have})"
    if missing:
        line += f"\ninstall more with: pip install 'dcaf-cli[{','.join(missing)}]'"
    return line
