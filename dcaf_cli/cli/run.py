"""`dcaf run`: chat with an agent, saving the session file after every turn."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from dcaf_cli.cli.params import EXIT_CODES
from dcaf_cli.cli.state import run_state
from dcaf_cli.errors import ExitStatus


class Approve(StrEnum):
    yes = "yes"
    no = "no"


class _RunCommand(TyperCommand):
    """`--resume` takes an optional NAME, which Typer's parser cannot express: a bare
    `--resume` (last, or before another option) gets the empty value, "pick one"."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, bare_resume(args))


def bare_resume(args: list[str]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        out.append(arg)
        following = args[i + 1] if i + 1 < len(args) else None
        if arg in ("--resume", "-r") and (following is None or following.startswith("-")):
            out.append("")
    return out


EXAMPLES = (
    "Examples:\n\n"
    "  dcaf run shop                       # saved in the sessions folder\n\n"
    "  dcaf run -c                         # continue the last session\n\n"
    "  dcaf run --resume                   # pick a session to continue\n\n"
    "  dcaf run shop --session cart.json   # created if missing, saved each turn\n\n"
    "  dcaf run dcaf_cli.examples.deploy -m 'start a deployment to staging' --json\n\n"
    "  dcaf run shop --model openai:gpt-4o-mini --session cart.json\n\n"
    "  echo 'add 2 widgets' | dcaf run shop --session cart.json\n\n"
    "  dcaf run agents/k8s.py --context tenant_name=acme --context k8s_namespace=web\n\n"
    "  dcaf run --url http://127.0.0.1:8000 --session remote.json\n\n"
    "  dcaf run notes --mcp 'python weather.py' --mcp http://127.0.0.1:9000/mcp\n\n" + EXIT_CODES
)


def register(app: typer.Typer) -> None:
    """Add `dcaf run` to `app`."""
    app.command(cls=_RunCommand, epilog=EXAMPLES)(run)


def run(  # noqa: PLR0917 (Typer reads the options from the parameters)
    ctx: typer.Context,
    agent: Annotated[
        str | None,
        typer.Argument(
            help="The agent: a file (agents/shop.py[:name]), a module (pkg.mod[:name]) or a "
            "built-in (notes, shop, deploy, counter). Default: the agent recorded in the session "
            "file, else notes.",
            show_default=False,
        ),
    ] = None,
    session: Annotated[
        Path | None,
        typer.Option(
            "--session",
            "-s",
            help="Session file to load and save after every turn (created if missing). "
            "Default: a new file in the sessions folder ($DCAF_SESSIONS_DIR, see `dcaf "
            "session ls`).",
        ),
    ] = None,
    continue_last: Annotated[
        bool,
        typer.Option(
            "--continue",
            "-c",
            help="Continue the most recently used session of the sessions folder (of AGENT, "
            "when given).",
        ),
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            "-r",
            metavar="[NAME]",
            help="Continue the session NAME of the sessions folder; without NAME, pick one "
            "from a list (on a terminal).",
            show_default=False,
        ),
    ] = None,
    no_save: Annotated[
        bool,
        typer.Option(
            "--no-save",
            help="Keep the conversation in memory only (/save FILE in the REPL keeps it after "
            "all).",
        ),
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="offline, script:FILE, openai:MODEL, ollama:MODEL, anthropic:MODEL, "
            "bedrock:MODEL_ID. Default: $DCAF_MODEL, else the one the session file records, "
            "else the agent's own, else offline.",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Chat with a HelpDesk-protocol server instead of a local agent (AGENT and "
            "--model are then not used).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="With --url: the server's bearer token (default: $DCAF_SERVE_TOKEN).",
            show_default=False,
        ),
    ] = None,
    message: Annotated[
        list[str] | None,
        typer.Option(
            "--message",
            "-m",
            help="Send this message and exit (repeat for several turns). No prompts.",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Write one JSON object per turn to stdout (reply, tool calls, diff, revision).",
        ),
    ] = False,
    approve: Annotated[
        Approve | None,
        typer.Option(
            "--approve",
            help="Without a terminal (-m or piped input): run (yes) or reject (no) every call "
            "that needs approval; no also refuses the tools approved 'always' in the file. "
            "Default: those run, every other call is rejected.",
            show_default=False,
        ),
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show secrets instead of redacting them.")
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Server URL for openai:, ollama: and anthropic: models; endpoint URL for "
            "bedrock:.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="API key for openai: and anthropic: models (default: OPENAI_API_KEY or "
            "ANTHROPIC_API_KEY).",
            envvar=None,
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="AWS region for bedrock: models (default: AWS_REGION)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="AWS profile for bedrock: models (default: AWS_PROFILE)."),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            help="KEY=VALUE for the platform context (tenant_name, k8s_namespace, ...) that a "
            "tool's `platform_context` parameter receives; repeatable. Kept in the session "
            "file for later runs.",
            show_default=False,
        ),
    ] = None,
    context_file: Annotated[
        Path | None,
        typer.Option(
            "--context-file",
            help="A JSON object of platform context values (--context pairs win over it).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    mcp: Annotated[
        list[str] | None,
        typer.Option(
            "--mcp",
            help="An MCP server whose tools join the agent's: a command run over stdio "
            '("python server.py") or a streamable-HTTP URL (http://host/mcp); repeatable.',
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show the traceback of an error that stops dcaf, and the exception behind a "
            "failed turn.",
        ),
    ] = False,
    record_model: Annotated[
        Path | None,
        typer.Option(
            "--record-model",
            help="Also write the model's replies to this JSON file, so the conversation replays "
            "offline later with --model script:FILE (continued if it exists).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Chat with an agent. Each turn shows the tool calls, the reply and what changed in the
    session, and saves the session file: the one --session names, else a new one in the
    sessions folder (-c and --resume continue those; --no-save keeps it in memory).

    Without a terminal (piped stdin) or with -m, runs one turn per line or message and exits;
    --json makes the output machine-readable.
    """
    from dcaf_cli.cli.chat import ChatSettings, start_chat

    state = run_state(ctx)
    state.debug = state.debug or debug

    settings = ChatSettings(
        agent=agent,
        session=session,
        model=model,
        url=url,
        token=token,
        messages=list(message or []),
        json_output=json_output,
        approve=None if approve is None else approve == Approve.yes,
        reveal=reveal,
        base_url=base_url,
        api_key=api_key,
        region=region,
        profile=profile,
        debug=state.debug,
        interactive=not message and sys.stdin.isatty(),
        context=list(context or []),
        context_file=context_file,
        record_model=record_model,
        continue_last=continue_last,
        resume=resume,
        no_save=no_save,
        mcp=list(mcp or []),
    )
    status = start_chat(settings)
    if status != ExitStatus.OK:
        raise typer.Exit(int(status))
