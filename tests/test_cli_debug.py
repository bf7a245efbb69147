"""`--debug` and `DCAF_DEBUG`: tracebacks only when the parsed options (or the variable)
ask for them; a `--debug` that is another option's value is that value."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import invoke, make_workdir


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_workdir(tmp_path, monkeypatch) / "shop.json"


def test_a_debug_that_is_an_options_value_shows_no_traceback(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    r = invoke(capsys, "session", "show", str(shop), "-k", "--debug")
    assert r.code == 2
    assert r.err == "dcaf: error: the session has no key '--debug' (its keys: cart, profile)\n"


def test_the_root_debug_shows_the_traceback_of_an_error(
    capsys: pytest.CaptureFixture[str], shop: Path
) -> None:
    r = invoke(capsys, "--debug", "session", "show", str(shop), "-k", "nokey")
    assert r.code == 2
    assert "Traceback" in r.err
    assert r.err.endswith("dcaf: error: the session has no key 'nokey' (its keys: cart, profile)\n")


def test_dcaf_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_DEBUG", "1")
    r = invoke(capsys, "session", "show", str(shop), "-k", "nokey")
    assert (r.code, "Traceback" in r.err) == (2, True)
    monkeypatch.setenv("DCAF_DEBUG", "0")
    r = invoke(capsys, "session", "show", str(shop), "-k", "nokey")
    assert (r.code, "Traceback" in r.err) == (2, False)


def test_a_bad_dcaf_debug_is_one_line(
    capsys: pytest.CaptureFixture[str], shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCAF_DEBUG", "maybe")
    r = invoke(capsys, "session", "show", str(shop))
    assert (r.code, r.out) == (2, "")
    assert r.err == "dcaf: error: DCAF_DEBUG='maybe' is not 1 or 0\n"


def test_ctrl_c_while_dcaf_starts_is_one_line_and_exit_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dcaf_cli import cli

    def interrupted(argv: object) -> int:
        raise KeyboardInterrupt  # as a Ctrl-C lands while the commands are imported

    monkeypatch.setattr(cli, "run_cli", interrupted)
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "shop"])
    assert exited.value.code == 130
    assert capsys.readouterr().err == "dcaf: interrupted\n"
