"""The domain exceptions core code raises, and the exit codes the CLI maps them to.

Core modules raise these; only the UI layer catches them and turns them into one line on
stderr and an exit code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes of every `dcaf` command (documented in `dcaf --help` and the README)."""

    OK = 0
    ERROR = 1  # a turn or command failed: tool, model, network, server error
    BAD_INPUT = 2  # bad file, bad arguments, unknown agent: nothing was changed
    LOCKED = 3  # another process holds the session file, or it changed behind our back
    BUG = 70  # dcaf itself failed (EX_SOFTWARE): never a code a command gives a meaning
    INTERRUPTED = 130  # Ctrl-C


class DcafError(Exception):
    """Base of the errors a user can act on. `str()` is the one line they see."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(DcafError):
    """The user asked for something that cannot work: bad option, unknown model or agent."""

    exit_status = ExitStatus.BAD_INPUT


class AgentLoadError(UsageError):
    """An agent spec that does not exist, fails to import, or defines no agent."""


class ToolDefinitionError(TypeError):
    """A tool function whose signature cannot be turned into a tool (raised at decoration)."""


class ToolArgumentError(DcafError):
    """Arguments a model or user gave a tool that do not validate against its schema."""

    exit_status = ExitStatus.BAD_INPUT

    def __init__(self, tool: str, problems: list[str], *, missing: list[str] | None = None) -> None:
        super().__init__(f"{tool}: " + "; ".join(problems))
        self.tool = tool
        self.problems = problems
        self.missing = missing or []


class UnknownToolError(DcafError):
    """A call to a tool the agent does not have."""

    exit_status = ExitStatus.BAD_INPUT


class ModelError(DcafError):
    """A model provider failed: authentication, throttling, network, malformed reply."""


class ProviderMissingError(UsageError):
    """A provider whose optional SDK is not installed."""


class CredentialsError(UsageError):
    """A provider's credentials are missing, found as the model is chosen (before any turn).

    `settings` names the environment variables that supply them and `flags` the `dcaf run`
    options, so each place can give the advice that fits: a flag cannot be passed inside
    the REPL.
    """

    def __init__(self, problem: str, settings: str, flags: str) -> None:
        super().__init__(problem)
        self.settings = settings
        self.flags = flags

    def __str__(self) -> str:
        return f"{self.message} — set {self.settings} or pass {self.flags}"

    def in_repl(self) -> str:
        """The advice inside the REPL, where options cannot be given any more."""
        return (
            f"{self.message} — set {self.settings} and start dcaf again (or start it with "
            f"{self.flags}); the model was not changed"
        )


class MCPError(DcafError):
    """An MCP server that cannot be started or reached, crashed, timed out or answered
    something malformed; a tool call it fails is a failed call, and the turn goes on."""


class SessionFileError(DcafError):
    """A session file that cannot be read or written: corrupt, future version, unwritable."""

    exit_status = ExitStatus.BAD_INPUT


class SessionSaveError(SessionFileError):
    """A session file that could not be written (disk full, read-only); it was left as it was."""

    exit_status = ExitStatus.ERROR


class SessionLockedError(DcafError):
    """Another process holds the session file, or it was changed behind our back."""

    exit_status = ExitStatus.LOCKED


class TurnCancelled(DcafError):
    """A turn stopped before it finished (Ctrl-C); its changes were rolled back."""

    exit_status = ExitStatus.INTERRUPTED
