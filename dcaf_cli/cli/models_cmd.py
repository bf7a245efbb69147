"""`dcaf models`: the model providers, whether each is installed, and where it would go."""

import importlib.util
import json
import os
from typing import Annotated

import typer


def _endpoint(prefix: str) -> str:
    """Where `prefix:` models are served, with any password in the URL masked."""
    from dcaf_cli.session.redact import redact_message

    return redact_message(_plain_endpoint(prefix))


def _plain_endpoint(prefix: str) -> str:
    env = os.environ
    if prefix == "openai":
        url = env.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        return f"{url} · key {'set' if env.get('OPENAI_API_KEY') else 'not set (OPENAI_API_KEY)'}"
    if prefix == "ollama":
        host = env.get("OLLAMA_HOST") or "http://localhost:11434"
        return f"{host if '://' in host else 'http://' + host}/v1"
    if prefix == "anthropic":
        url = env.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
        key = "set" if env.get("ANTHROPIC_API_KEY") else "not set (ANTHROPIC_API_KEY)"
        return f"{url} · key {key}"
    if prefix == "bedrock":
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "(from your AWS config)"
        profile = env.get("AWS_PROFILE") or "default"
        return f"region {region} · profile {profile}"
    if prefix == "script":
        return "a JSON or YAML file of replies: script:FILE"
    return "embedded, no network"


EXAMPLES = "Examples:\n\n  dcaf models\n\n  dcaf models --json | jq '.[] | select(.installed)'"


def register(app: typer.Typer) -> None:
    """Add `dcaf models` to `app`."""
    app.command(epilog=EXAMPLES)(models)


def models(
    json_output: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """List the model providers, whether their SDK is installed, and which endpoint, region or
    profile each would use (never a secret). Pick one with `dcaf run --model PROVIDER:MODEL`."""
    from dcaf_cli.models import PROVIDERS

    rows = []
    for provider in PROVIDERS:
        installed = provider.sdk is None or importlib.util.find_spec(provider.sdk) is not None
        rows.append(
            {
                "provider": provider.prefix,
                "installed": installed,
                "install": None if installed else f"pip install 'dcaf-cli[{provider.extra}]'",
                "uses": _endpoint(provider.prefix),
                "about": provider.summary,
            }
        )
    if json_output:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("provider", "installed", "uses", "about"):
        table.add_column(column, overflow="fold")
    for row in rows:
        mark = "yes" if row["installed"] else f"no: {row['install']}"
        table.add_row(*(Text(str(v)) for v in (row["provider"], mark, row["uses"], row["about"])))
    Console().print(table)
