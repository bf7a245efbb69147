"""Secrets: find them in session data, and hide them in every view unless `--reveal`.

A value is secret when its key looks like one (`password`, `api_key`, `token`, ...) or the
value itself looks like a credential (`sk-…`, `AKIA…`, `ghp_…`, a JWT, a private key).
Redaction changes only what is shown; the data itself is never altered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dcaf_cli.session.keypath import format_key_path

if TYPE_CHECKING:  # at run time only the type is needed: keep `dcaf session show` light
    from dcaf_cli.session.diff import Change
    from dcaf_cli.session.jsonvalue import Path

SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|authorization|auth|credential|"
    r"private[_-]?key|access[_-]?key|session[_-]?key|cookie|pwd)$",
    re.IGNORECASE,
)
SECRET_VALUE = re.compile(
    r"(sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}"  # OpenAI / Anthropic keys
    r"|A(?:KIA|SIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
MASK = "‹redacted›"


def is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    # `token_count` or `password_policy` are not secrets; `user_password`, `apiKey` are.
    words = re.sub(r"([a-z])([A-Z])", r"\1_\2", key).lower()
    return bool(SECRET_KEY.search(words))


def has_secret_value(value: object) -> bool:
    return isinstance(value, str) and SECRET_VALUE.search(value) is not None


def redact(value: Any, key: object = None) -> Any:
    """A copy of `value` for display, with secrets masked."""
    if key is not None and is_secret_key(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return SECRET_VALUE.sub(lambda m: m.group(0)[:4] + "…" + MASK, value)
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def secret_paths(value: Any, path: Path = ()) -> list[str]:
    """Where in `value` secrets are stored, as display paths."""
    return [format_key_path(p) for p in _secret_paths(value, path)]


def _secret_paths(value: Any, path: Path) -> list[Path]:
    if path and is_secret_key(path[-1]) and value not in (None, "", [], {}):
        return [path]
    if has_secret_value(value):
        return [path]
    found: list[Path] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _secret_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _secret_paths(v, (*path, i))
    return found


def secrets_in_changes(changes: Iterable[Change]) -> list[str]:
    """Paths where a change stores a secret (what the seed's best practice 5 warns of)."""
    found: list[str] = []
    for change in changes:
        if change.kind != "removed":
            found += secret_paths(change.new, change.path)
    return found
