"""Shared fixtures. The autouse one keeps every test away from the real user's files."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis judges generation speed by the clock: on a busy machine that is luck, not a
# finding. (A test's own `suppress_health_check` replaces this list: name too_slow there.)
settings.register_profile("dcaf", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("dcaf")

# Settings that change what the program prints or which provider it reaches.
_CLEARED_ENV = (
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
)
# Every `DCAF_*`, AWS, Ollama and Anthropic setting too, but the one that asks the tests to
# rewrite the golden files.
_CLEARED_PREFIXES = ("AWS_", "DCAF_", "OLLAMA_", "ANTHROPIC_")
_KEPT = ("DCAF_UPDATE_GOLDEN",)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every user directory at `tmp_path`, and drop env that would change outputs.

    Returns the `DCAF_HOME` directory (not created: code must create what it needs); the
    sessions folder is `tmp_path / "sessions"` (the `sessions_dir` fixture).
    """
    prefixed = (n for n in os.environ if n.startswith(_CLEARED_PREFIXES) and n not in _KEPT)
    for name in (*_CLEARED_ENV, *prefixed):
        monkeypatch.delenv(name, raising=False)
    # boto3 looks for credentials on the instance metadata service when none are set:
    # tests never leave 127.0.0.1.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    dcaf_home = tmp_path / "dcaf-home"
    monkeypatch.setenv("DCAF_HOME", str(dcaf_home))
    monkeypatch.setenv("DCAF_SESSIONS_DIR", str(tmp_path / "sessions"))
    return dcaf_home


@pytest.fixture
def sessions_dir(tmp_path: Path) -> Path:
    """The sessions folder `dcaf run` saves into in tests (`DCAF_SESSIONS_DIR`; not created)."""
    return tmp_path / "sessions"


@pytest.fixture(autouse=True)
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal (pytest-xdist's workers ignore it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
