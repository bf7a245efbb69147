"""The `DCAF_*` environment settings: read and checked here, and nowhere else.

Each setting is a function that reads its variable when asked, so a setting nothing uses
cannot stop a command (a bad `DCAF_TIMEOUT` does not break `dcaf session show`), and a
change to the environment (a test, `dcaf serve` handing settings to its workers) is seen.
A bad value is a `UsageError` (exit 2) naming the variable, the value and what it takes.
The parsing is cached per value, and this module imports only the standard library, so
asking costs nothing at start-up.

| variable | what |
|---|---|
| `DCAF_HOME` | where dcaf keeps its own files (default: the platform's user data dir) |
| `DCAF_SESSIONS_DIR` | where `dcaf run` saves without `--session` (default: `sessions` there) |
| `DCAF_DEBUG` | `1` shows the traceback of an error that stops dcaf (as `--debug`) |
| `DCAF_MODEL` | the model `dcaf run` uses when `--model` is not given |
| `DCAF_MAX_FILE_MB` | the largest session file read, in megabytes (default 100) |
| `DCAF_TIMEOUT` | seconds to wait for a model server (default 120) |
| `DCAF_MAX_RETRIES` | how often a model SDK retries a failed request (default 2) |
| `DCAF_BEDROCK_ENDPOINT_URL` | the Bedrock endpoint (default: the AWS SDK's) |
| `DCAF_SESSION_SECRET` | the server's signing secret, shared by its replicas |
| `DCAF_SESSION_SECRET_FILE` | a file of secrets, one a line: the first signs, all verify |
| `DCAF_APPROVAL_KEY` | the key (hex) `dcaf serve` hands its workers without a secret |
| `DCAF_LEDGER` | the ledger of used approvals: memory, sqlite:PATH or redis://HOST:PORT/DB |
| `DCAF_SERVE_TOKEN` | the bearer token `dcaf serve` requires and `dcaf run --url` sends |
| `DCAF_SERVE_AGENT`, `DCAF_SERVE_MODEL`, `DCAF_SERVE_MAX_BODY` | what a worker serves |
| `DCAF_SERVE_METRICS`, `DCAF_SERVE_LOG_FORMAT` | a worker's `/metrics` and access lines |
| `DCAF_SERVE_LIMITS`, `DCAF_SERVE_HOSTS`, `DCAF_SERVE_ORIGINS` | its limits and checks |
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

from dcaf_cli.errors import UsageError

HOME = "DCAF_HOME"
SESSIONS_DIR = "DCAF_SESSIONS_DIR"
DEBUG = "DCAF_DEBUG"
MODEL = "DCAF_MODEL"
MAX_FILE_MB = "DCAF_MAX_FILE_MB"
TIMEOUT = "DCAF_TIMEOUT"
MAX_RETRIES = "DCAF_MAX_RETRIES"
BEDROCK_ENDPOINT_URL = "DCAF_BEDROCK_ENDPOINT_URL"
SESSION_SECRET = "DCAF_SESSION_SECRET"
SESSION_SECRET_FILE = "DCAF_SESSION_SECRET_FILE"
APPROVAL_KEY = "DCAF_APPROVAL_KEY"
APPROVAL_LEDGER = "DCAF_APPROVAL_LEDGER"
LEDGER = "DCAF_LEDGER"
SERVE_AGENT = "DCAF_SERVE_AGENT"
SERVE_MODEL = "DCAF_SERVE_MODEL"
SERVE_MAX_BODY = "DCAF_SERVE_MAX_BODY"
SERVE_METRICS = "DCAF_SERVE_METRICS"
SERVE_LOG_FORMAT = "DCAF_SERVE_LOG_FORMAT"
LOG_FORMATS = ("text", "json")
SERVE_TOKEN = "DCAF_SERVE_TOKEN"
SERVE_LIMITS = "DCAF_SERVE_LIMITS"
SERVE_HOSTS = "DCAF_SERVE_HOSTS"
SERVE_ORIGINS = "DCAF_SERVE_ORIGINS"

DEFAULT_MAX_FILE_MB = 100.0
DEFAULT_TIMEOUT = 120.0  # seconds to wait for a model server, per read
DEFAULT_RETRIES = 2

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def _text(name: str) -> str | None:
    """A free-form setting; unset and empty are alike."""
    return _raw(name) or None


def _bad(name: str, raw: str, wanted: str) -> UsageError:
    return UsageError(f"{name}={raw!r} is not {wanted}")


# -- where dcaf keeps its files -------------------------------------------------------------


def dcaf_home() -> Path:
    """`DCAF_HOME`, else the user data dir (`~/.local/share/dcaf` on Linux)."""
    override = _raw(HOME)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("dcaf", appauthor=False))


def history_file() -> Path:
    """The REPL's prompt history."""
    return dcaf_home() / "history"


def sessions_dir() -> Path:
    """`DCAF_SESSIONS_DIR`, else `sessions` in `dcaf_home()`: where `dcaf run` saves a
    conversation when no `--session` file is named."""
    override = _raw(SESSIONS_DIR)
    if override:
        return Path(override).expanduser()
    return dcaf_home() / "sessions"


# -- the command line -----------------------------------------------------------------------


def debug() -> bool:
    """`DCAF_DEBUG=1`: tracebacks for errors that stop dcaf."""
    return _flag(DEBUG, _raw(DEBUG))


@lru_cache(maxsize=8)
def _flag(name: str, raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _bad(name, raw, "1 or 0")


def default_model() -> str | None:
    """`DCAF_MODEL`: the model `dcaf run` uses when none is given."""
    return _text(MODEL)


# -- session files --------------------------------------------------------------------------


def max_file_mb() -> float:
    """`DCAF_MAX_FILE_MB`: session files over this many megabytes are refused unread."""
    return _positive_mb(MAX_FILE_MB, _raw(MAX_FILE_MB))


@lru_cache(maxsize=8)
def _positive_mb(name: str, raw: str) -> float:
    if not raw:
        return DEFAULT_MAX_FILE_MB
    try:
        limit = float(raw)
    except ValueError:
        limit = math.nan
    if not limit > 0 or math.isinf(limit):
        raise _bad(name, raw, "a positive number of megabytes")
    return limit


# -- model providers ------------------------------------------------------------------------


def timeout() -> float:
    """`DCAF_TIMEOUT`: seconds to wait for a model server."""
    return _seconds(TIMEOUT, _raw(TIMEOUT))


@lru_cache(maxsize=8)
def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise _bad(name, raw, "a number of zero or more")
    return value


def max_retries() -> int:
    """`DCAF_MAX_RETRIES`: how often a model SDK retries a failed request."""
    return _count(MAX_RETRIES, _raw(MAX_RETRIES), DEFAULT_RETRIES)


@lru_cache(maxsize=8)
def _count(name: str, raw: str, default: int) -> int:
    if not raw:
        return default
    if not raw.isdigit():
        raise _bad(name, raw, "a whole number of zero or more")
    return int(raw)


def bedrock_endpoint() -> str | None:
    """`DCAF_BEDROCK_ENDPOINT_URL`: where Bedrock requests go instead of AWS."""
    return _text(BEDROCK_ENDPOINT_URL)


# -- the server -----------------------------------------------------------------------------


def session_secret() -> str | None:
    """`DCAF_SESSION_SECRET`: signs approvals and sessions alike on every replica."""
    return _text(SESSION_SECRET)


def session_secrets() -> list[str]:
    """The signing secrets, newest first: `DCAF_SESSION_SECRET_FILE` (one a line; blank
    lines and `#` comments skipped), else `DCAF_SESSION_SECRET` alone. The first signs;
    the others still verify what they signed (rotation)."""
    path = _raw(SESSION_SECRET_FILE)
    if not path:
        secret = session_secret()
        return [secret] if secret else []
    if _raw(SESSION_SECRET):
        raise UsageError(f"set {SESSION_SECRET} or {SESSION_SECRET_FILE}, not both")
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{SESSION_SECRET_FILE}={path!r}: cannot read it: {exc}") from None
    found = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not found:
        raise UsageError(f"{SESSION_SECRET_FILE}={path!r} holds no secret")
    return found


def approval_key() -> bytes | None:
    """`DCAF_APPROVAL_KEY`: the approval signing key `dcaf serve` gives its workers (the
    first of a comma-separated list: see `approval_keys`)."""
    keys = approval_keys()
    return keys[0] if keys else None


def approval_keys() -> list[bytes]:
    """`DCAF_APPROVAL_KEY` as a list: `NEW,OLD,...` in hex; the first signs, all verify."""
    parts = [part.strip() for part in _raw(APPROVAL_KEY).split(",") if part.strip()]
    return [key for part in parts if (key := _hex_key(APPROVAL_KEY, part)) is not None]


@lru_cache(maxsize=8)
def _hex_key(name: str, raw: str) -> bytes | None:
    try:
        return bytes.fromhex(raw) or None
    except ValueError:
        raise _bad(name, raw, "a key in hex") from None


def approval_ledger() -> str | None:
    """`DCAF_LEDGER` (`memory`, `sqlite:PATH`, `redis://...`), else `DCAF_APPROVAL_LEDGER`
    (a SQLite path): the ledger of used approvals every worker and replica shares."""
    return _text(LEDGER) or _text(APPROVAL_LEDGER)


def serve_agent() -> str | None:
    """`DCAF_SERVE_AGENT`: the agent a worker process serves."""
    return _text(SERVE_AGENT)


def serve_model() -> str | None:
    """`DCAF_SERVE_MODEL`: the model a worker process gives its agent."""
    return _text(SERVE_MODEL)


def serve_max_body() -> int | None:
    """`DCAF_SERVE_MAX_BODY`: the largest request body a worker accepts, in bytes."""
    raw = _raw(SERVE_MAX_BODY)
    if not raw:
        return None
    value = _count(SERVE_MAX_BODY, raw, 0)
    if value < 1:
        raise _bad(SERVE_MAX_BODY, raw, "a number of bytes of 1 or more")
    return value


def serve_metrics() -> bool:
    """`DCAF_SERVE_METRICS=1`: a worker serves `/metrics`."""
    return _raw(SERVE_METRICS) == "1"


def serve_log_format() -> str:
    """`DCAF_SERVE_LOG_FORMAT`: `text` (uvicorn's access lines) or `json` (dcaf's)."""
    raw = _raw(SERVE_LOG_FORMAT) or "text"
    if raw not in LOG_FORMATS:
        raise _bad(SERVE_LOG_FORMAT, raw, "text or json")
    return raw


def serve_token() -> str | None:
    """`DCAF_SERVE_TOKEN`: the bearer token `dcaf serve` requires, and `dcaf run --url`
    sends."""
    return _text(SERVE_TOKEN)


def serve_list(name: str) -> list[str]:
    """`DCAF_SERVE_HOSTS` or `DCAF_SERVE_ORIGINS`: comma-separated, from `dcaf serve` to
    its workers."""
    return [part.strip() for part in _raw(name).split(",") if part.strip()]


def serve_limits() -> dict[str, float]:
    """`DCAF_SERVE_LIMITS`: the request limits (JSON) `dcaf serve` hands its workers."""
    return _limits(_raw(SERVE_LIMITS))


@lru_cache(maxsize=8)
def _limits(raw: str) -> dict[str, float]:
    import json

    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        raise _bad(SERVE_LIMITS, raw, "a JSON object of numbers")
    return value
