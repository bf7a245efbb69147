"""The `DCAF_*` settings: defaults, good values, one-line errors for bad ones, and a
start-up that imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dcaf_cli import settings
from dcaf_cli.errors import UsageError

VARIABLES = [
    settings.HOME, settings.SESSIONS_DIR, settings.DEBUG, settings.MODEL, settings.MAX_FILE_MB,
    settings.TIMEOUT,
    settings.MAX_RETRIES, settings.BEDROCK_ENDPOINT_URL, settings.SESSION_SECRET,
    settings.APPROVAL_KEY, settings.APPROVAL_LEDGER, settings.SERVE_AGENT,
    settings.SERVE_MODEL, settings.SERVE_MAX_BODY,
]  # fmt: skip


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        if name not in (settings.HOME, settings.SESSIONS_DIR):  # conftest: temporary folders
            monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    assert settings.debug() is False
    assert settings.default_model() is None
    assert settings.max_file_mb() == settings.DEFAULT_MAX_FILE_MB
    assert settings.timeout() == settings.DEFAULT_TIMEOUT
    assert settings.max_retries() == settings.DEFAULT_RETRIES
    assert settings.bedrock_endpoint() is None
    assert settings.session_secret() is None
    assert settings.approval_key() is None
    assert settings.approval_ledger() is None
    assert (settings.serve_agent(), settings.serve_model(), settings.serve_max_body()) == (
        None,
        None,
        None,
    )


GOOD: list[tuple[str, str, Callable[[], object], object]] = [
    (settings.DEBUG, "1", settings.debug, True),
    (settings.DEBUG, "true", settings.debug, True),
    (settings.DEBUG, "0", settings.debug, False),
    (settings.MODEL, " openai:gpt-4o-mini ", settings.default_model, "openai:gpt-4o-mini"),
    (settings.MAX_FILE_MB, "0.5", settings.max_file_mb, 0.5),
    (settings.TIMEOUT, "0", settings.timeout, 0.0),
    (settings.TIMEOUT, "7.5", settings.timeout, 7.5),
    (settings.MAX_RETRIES, "5", settings.max_retries, 5),
    (settings.APPROVAL_KEY, "ab01", settings.approval_key, b"\xab\x01"),
    (settings.SERVE_MAX_BODY, "1234", settings.serve_max_body, 1234),
    (settings.SESSION_SECRET, "", settings.session_secret, None),
]


@pytest.mark.parametrize(("name", "raw", "read", "expected"), GOOD)
def test_good_values(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    raw: str,
    read: Callable[[], object],
    expected: object,
) -> None:
    monkeypatch.setenv(name, raw)
    assert read() == expected


BAD: list[tuple[str, str, Callable[[], object], str]] = [
    (settings.DEBUG, "maybe", settings.debug, "1 or 0"),
    (settings.MAX_FILE_MB, "0", settings.max_file_mb, "a positive number of megabytes"),
    (settings.MAX_FILE_MB, "nan", settings.max_file_mb, "a positive number of megabytes"),
    (settings.TIMEOUT, "soon", settings.timeout, "a number of zero or more"),
    (settings.TIMEOUT, "inf", settings.timeout, "a number of zero or more"),
    (settings.TIMEOUT, "-1", settings.timeout, "a number of zero or more"),
    (settings.MAX_RETRIES, "2.5", settings.max_retries, "a whole number of zero or more"),
    (settings.MAX_RETRIES, "-1", settings.max_retries, "a whole number of zero or more"),
    (settings.APPROVAL_KEY, "xyz", settings.approval_key, "a key in hex"),
    (settings.SERVE_MAX_BODY, "0", settings.serve_max_body, "a number of bytes of 1 or more"),
    (settings.SERVE_MAX_BODY, "big", settings.serve_max_body, "a whole number of zero or more"),
]


@pytest.mark.parametrize(("name", "raw", "read", "wanted"), BAD)
def test_bad_values_are_one_line_usage_errors(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    raw: str,
    read: Callable[[], object],
    wanted: str,
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(UsageError) as caught:
        read()
    assert str(caught.value) == f"{name}={raw!r} is not {wanted}"


def test_a_change_to_the_environment_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.TIMEOUT, "3")
    assert settings.timeout() == 3.0
    monkeypatch.setenv(settings.TIMEOUT, "4")
    assert settings.timeout() == 4.0


def test_an_unused_bad_setting_stops_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.TIMEOUT, "soon")
    assert settings.max_file_mb() == settings.DEFAULT_MAX_FILE_MB


def test_home_and_history(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(settings.HOME, str(tmp_path / "dcaf"))
    assert settings.history_file() == tmp_path / "dcaf" / "history"


def test_sessions_dir_is_in_home_unless_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(settings.HOME, str(tmp_path / "dcaf"))
    monkeypatch.delenv(settings.SESSIONS_DIR)
    assert settings.sessions_dir() == tmp_path / "dcaf" / "sessions"
    monkeypatch.setenv(settings.SESSIONS_DIR, str(tmp_path / "elsewhere"))
    assert settings.sessions_dir() == tmp_path / "elsewhere"


def test_the_module_imports_only_the_standard_library() -> None:
    code = (
        "import sys; import dcaf_cli.settings; "
        "print(sorted(m for m in ('pydantic', 'platformdirs', 'typer', 'rich') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
