"""Secrets: find them in session data, and hide them in every view unless `--reveal`.

A value is secret when its key looks like one (`password`, `api_key`, `token`, ...) or the
value itself looks like a credential (`sk-…`, `AKIA…`, `ghp_…`, a JWT, a whole PEM private
key block, the password in a URL such as `postgres://user:pass@db/x`).
The one rule holds in every view: in data (by key), in text (`password=hunter2`,
`password: hunter2`, `password is hunter2`) and in a call's arguments, where an argument
naming a secret key (`remember(key="password", value="hunter2")`) hides the values beside
it. Redaction changes only what is shown; the data itself is never altered.
`redact_message` masks credentials in an error line or a traceback, and `redact_argv` in a
command line (the values of secret options such as `--api-key`).
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
    # A private key, BEGIN to END (or to the end of the text, if cut short).
    r"|-----BEGIN (?P<pem>[A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END (?P=pem)PRIVATE KEY-----|\Z))",
    re.DOTALL,
)
# scheme://user:password@ : the password is masked, the rest kept (it says where). A scheme
# is short: bounding it keeps a long dotted word (`a.a.a...`) linear, not quadratic.
URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]{0,31}://[^/\s:@]*):([^/\s@]+)@", re.IGNORECASE)
# `Authorization: Bearer <token>` (or Basic, Token): the scheme is kept, the token masked.
# A token has a digit, a mark or a capital after its first letter, so "Basic information"
# or "Bearer tokens" stay as they are.
AUTH_SCHEMES = ("bearer", "basic", "token")
AUTH_SCHEME = re.compile(
    rf"\b({'|'.join(AUTH_SCHEMES)})(\s+)(?=.[\w.~+/=-]*(?-i:[0-9.~+/=A-Z-]))"
    r"([\w.~+/-]{8,}=*)(?![\w.~+/=-])",
    re.IGNORECASE,
)
MASK = "‹redacted›"
# `name=value`, `name: value`, `name is value`: the value is hidden when the name is secret.
# A name is matched from the start of its word only, and without backtracking: trying
# every letter of a 1 MB word as a start would cost minutes. A word with no ASCII letter
# (`12`, `ß`) is no name: taken as one, its value would swallow a `password=` after it.
_NAMED_VALUE = re.compile(
    r"""(?<![\w-])((?>[\w-]*?[A-Za-z_])[\w-]*+)(\s*[=:]\s*|\s+is\s+)("[^"]*"|'[^']*'|[^\s,;]+)"""
)
_BEFORE_NAME = re.compile(r"^[^A-Za-z_]+")  # `1password`: the name starts at a letter
SECRET_OPTION = re.compile(r"^--?([A-Za-z][\w-]*)(=.*)?$", re.DOTALL)


def is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    # `token_count` or `password_policy` are not secrets; `user_password`, `apiKey` are.
    words = re.sub(r"([a-z])([A-Z])", r"\1_\2", key).lower()
    return bool(SECRET_KEY.search(words))


def has_secret_value(value: object) -> bool:
    return isinstance(value, str) and any(
        pattern.search(value) is not None
        for pattern in (SECRET_VALUE, URL_CREDENTIALS, AUTH_SCHEME)
    )


def _mask_text(value: str) -> str:
    masked = SECRET_VALUE.sub(lambda m: m.group(0)[:4] + "…" + MASK, value)
    return _mask_credentials(masked)


def _mask_credentials(text: str) -> str:
    """`text` with URL passwords and authorization tokens masked."""
    return AUTH_SCHEME.sub(rf"\1\2{MASK}", URL_CREDENTIALS.sub(rf"\1:{MASK}@", text))


_KNOWN: set[str] = set()  # secrets this process was given (an --api-key), for redact_text


def remember_secret(value: str | None) -> None:
    """Mask `value` wherever `redact_text` runs from now on (a key a server may echo in
    an error, which no pattern would recognise). Short values are not worth it."""
    if value and len(value) >= 8:
        _KNOWN.add(value)


def redact_message(text: str) -> str:
    """`text` (an error line, a traceback, a server's reply) with credentials masked."""
    for secret in _KNOWN:
        text = text.replace(secret, MASK)
    return _mask_credentials(SECRET_VALUE.sub(MASK, text))


def redact_argv(argv: list[str]) -> list[str]:
    """A command line fit to store or show: the value of every option whose name is a
    secret's (`--api-key K`, `--token=T`) masked, and credentials in any argument."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        option = SECRET_OPTION.match(arg)
        if option and is_secret_key(option[1]):
            if option[2] is None:
                hide_next = True
                out.append(arg)
            else:
                out.append(f"{arg.split('=', 1)[0]}={MASK}")
            continue
        out.append(_mask_text(arg))
    return out


def redact(value: Any, key: object = None) -> Any:
    """A copy of `value` for display, with secrets masked (a loop, not recursion: any
    depth)."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, object, Any, Any]] = [(value, key, holder, 0)]
    while stack:
        item, name, target, slot = stack.pop()
        if name is not None and is_secret_key(name) and item not in (None, "", [], {}):
            target[slot] = MASK
        elif isinstance(item, str):
            target[slot] = redact_text(item)
        elif isinstance(item, dict):
            target[slot] = shown = dict.fromkeys(item)
            stack += [(v, k, shown, k) for k, v in item.items()]
        elif isinstance(item, list):
            target[slot] = listed = [None] * len(item)
            stack += [(v, None, listed, i) for i, v in enumerate(item)]
        else:
            target[slot] = item
    return holder[0]


def redact_text(text: str) -> str:
    """`text` with credential-like values and the values of secret names masked."""
    text = _mask_text(text)
    text = _NAMED_VALUE.sub(_mask_named, text)
    if text.lstrip().startswith("/"):  # a typed call: `/remember password hunter2`
        text = _POSITIONAL.sub(lambda m: f"{m[1]}{MASK}" if is_secret_key(m[3]) else m[0], text)
    return text


_MASKED_AFTER = re.compile(rf"[ \t]+{MASK}")
_POSITIONAL = re.compile(r"""(\s(["']?)([A-Za-z_][\w-]*)\2\s+)(?!‹)("[^"]*"|'[^']*'|\S+)""")


def _mask_named(match: re.Match[str]) -> str:
    word, separator, value = match.groups()
    name = _BEFORE_NAME.sub("", word)
    if value.lower() in AUTH_SCHEMES and _MASKED_AFTER.match(match.string, match.end()):
        return match[0]  # `Authorization: Bearer ‹redacted›`: the scheme may show
    return f"{word}{separator}{MASK}" if is_secret_key(name) and MASK not in value else match[0]


def redact_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments for display: by key, and, when one argument names a secret key
    (`key="password"`), every other text argument too."""
    shown: dict[str, Any] = redact(arguments)
    if any(is_secret_key(v) for v in arguments.values()):
        shown = {
            k: MASK if isinstance(v, str) and not is_secret_key(v) else v for k, v in shown.items()
        }
    return shown


def mentions_secret(text: str) -> bool:
    """Whether `text` (a line typed at the prompt) holds what a view would hide: a
    credential, or a secret name followed by anything (`/remember password hunter2`)."""
    if SECRET_VALUE.search(text) or redact_text(text) != text:
        return True
    words = re.findall(r"[A-Za-z_][\w-]*|\S+", text)
    return any(is_secret_key(word) for word in words[:-1])


def secret_paths(value: Any, path: Path = ()) -> list[str]:
    """Where in `value` secrets are stored, as display paths (in order; any depth)."""
    found: list[str] = []
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if (at and is_secret_key(at[-1]) and item not in (None, "", [], {})) or (
            has_secret_value(item)
        ):
            found.append(format_key_path(at))
        elif isinstance(item, dict):
            stack += [(v, (*at, k)) for k, v in reversed(item.items())]
        elif isinstance(item, list):
            stack += [(v, (*at, i)) for i, v in reversed(list(enumerate(item)))]
    return found


def secrets_in_changes(changes: Iterable[Change]) -> list[str]:
    """Paths where a change stores a secret (DCAF's session guide warns against storing them)."""
    found: list[str] = []
    for change in changes:
        if change.kind != "removed":
            found += secret_paths(change.new, change.path)
    return found
