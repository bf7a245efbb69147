"""Every command's `--help` and usage errors, walked over the whole command tree.

Help follows Click's conventions (`TEXT`, `PATH`, `INTEGER RANGE`, no label for a flag,
`FILE KEY VALUE` and `[AGENT]` in the usage line), every usage error is one line that
points at `--help`, and no example in the help writes to the repo's own `sessions/` files.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer.main
from cli_helpers import Result, invoke

from dcaf_cli.cli.app import app
from dcaf_cli.cli.metavars import install as install_click_metavars
from dcaf_cli.errors import ExitStatus

# The commands that never write the file they name (the rest may, or create one).
READ_ONLY = {
    "session show",
    "session log",
    "session diff",
    "session get",
    "session export",
    "session validate",
    "session ls",
    "tools",
    "models",
    "replay",
}


def _tree(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _tree(sub, (*path, name))


COMMANDS = dict(_tree(typer.main.get_command(app)))
LEAVES = {path: c for path, c in COMMANDS.items() if not getattr(c, "commands", None)}


def _ids(paths: Any) -> list[str]:
    return [" ".join(p) or "dcaf" for p in paths]


@pytest.fixture(autouse=True)
def _plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)


def _help(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> str:
    result = invoke(capsys, *path, "--help")
    assert result.code == 0, result
    return result.out


def _usage(text: str) -> str:
    return next(line.strip() for line in text.splitlines() if "Usage:" in line)


@pytest.mark.parametrize("path", list(COMMANDS), ids=_ids(COMMANDS))
def test_help_uses_clicks_names_for_values_and_arguments(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    text = _help(capsys, path)
    # Typer 0.2x's own labels: <bool>, <str>, <list[str]>, <int range>, <path>, <yes|no>
    assert not re.findall(r"<[a-z][a-z_|\[\] ]*>", text), text
    usage = _usage(text)
    assert usage.startswith(f"Usage: {' '.join(('dcaf', *path))} [OPTIONS]"), usage
    arguments = [p for p in COMMANDS[path].params if p.param_type_name == "argument"]
    expected = [
        ("{}" if p.required else "[{}]").format(p.name.upper()) + ("..." if p.nargs != 1 else "")
        for p in arguments
    ]
    tail = usage.split("[OPTIONS]", 1)[1].split()
    if getattr(COMMANDS[path], "commands", None):
        assert tail == ["COMMAND", "[ARGS]..."], usage
    else:
        assert tail == expected, usage
    for option in COMMANDS[path].params:  # a flag has no value to name
        if getattr(option, "is_flag", False) and option.opts[0] != "--help":
            row = next(line for line in text.splitlines() if _names(line, option.opts[0]))
            cells = [c for c in re.split(r"\s{2,}", row.strip("│ ")) if not c.startswith("-")]
            assert not re.match(r"(TEXT|BOOLEAN|INTEGER)\b|\[|<", cells[0]), row


def _names(row: str, option: str) -> bool:
    """Whether `row` is the help row of `option`."""
    return re.match(r"│\s*" + re.escape(option) + r"(\s|,|$)", row) is not None


def test_session_set_names_its_arguments_in_capitals(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, ("session", "set"))
    assert _usage(text) == "Usage: dcaf session set [OPTIONS] FILE KEY VALUE"
    assert re.search(r"\* +file +PATH +A session file", text), text
    assert re.search(r"\* +key +TEXT +A key or a path", text), text


def test_run_help_reads_like_click(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, ("run",))
    assert _usage(text) == "Usage: dcaf run [OPTIONS] [AGENT]"
    assert re.search(r"--session +-s +PATH ", text)
    assert re.search(r"--message +-m +TEXT ", text)  # repeatable text: TEXT, as Click
    assert re.search(r"--approve +\[yes\|no\] ", text)
    assert re.search(r"--context-file +FILE ", text)
    assert re.search(r"--json +Write one JSON", text)  # a flag: no label


def test_a_bounded_number_says_its_range(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, ("serve",))
    assert re.search(r"--max-body +INTEGER RANGE \[x>=1\] ", text), text
    assert re.search(r"--port +(-p +)?INTEGER ", text), text


# -- usage errors: one line, with where to read more -------------------------------------


def _one_line_usage_error(result: Result, path: tuple[str, ...]) -> str:
    assert result.code == ExitStatus.BAD_INPUT, result
    assert result.out == "", result
    assert result.err.startswith("dcaf: error: "), result.err
    assert result.err.count("\n") == 1, result.err
    assert result.err.endswith(f"(see `{' '.join(('dcaf', *path))} --help`)\n"), result.err
    assert "Value error" not in result.err
    assert "Usage:" not in result.err
    return result.err


def _filled(command: Any) -> list[str]:
    """Values for the required arguments of `command` (never reached: a usage error stops
    the command before it runs)."""
    return [
        "x.json"
        for p in command.params
        if p.param_type_name == "argument" and p.required
        for _ in range(max(p.nargs, 1))
    ]


@pytest.mark.parametrize("path", list(COMMANDS), ids=_ids(COMMANDS))
def test_an_unknown_option_is_one_line(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    err = _one_line_usage_error(invoke(capsys, *path, "--no-such-option"), path)
    assert "--no-such-option" in err


REQUIRED = [p for p, c in LEAVES.items() if any(x.required for x in c.params)]


@pytest.mark.parametrize("path", REQUIRED, ids=_ids(REQUIRED))
def test_a_missing_argument_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    err = _one_line_usage_error(invoke(capsys, *path), path)
    first = next(p for p in LEAVES[path].params if p.required)
    name = first.name.upper() if first.param_type_name == "argument" else first.opts[0]
    assert f"'{name}'" in err, err


def _bad_values() -> Iterator[tuple[tuple[str, ...], str, str]]:
    for path, command in LEAVES.items():
        for p in command.params:
            desc = getattr(p, "type_descriptor", None)
            if p.param_type_name != "option" or getattr(p, "is_flag", False) or desc is None:
                continue
            if desc.is_choice:
                yield path, p.opts[0], "maybe"
            elif desc.annotation is int:
                yield path, p.opts[0], "many"
                if p.min is not None:  # below the range: Click's words, not pydantic's
                    yield path, p.opts[0], str(p.min - 1)


BAD_VALUES = list(_bad_values())


@pytest.mark.parametrize(
    ("path", "option", "value"),
    BAD_VALUES,
    ids=[f"{' '.join(p)} {o}" for p, o, _ in BAD_VALUES],
)
def test_a_bad_option_value_is_one_line(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], option: str, value: str
) -> None:
    args = [*path, *_filled(LEAVES[path]), option, value]
    err = _one_line_usage_error(invoke(capsys, *args), path)
    assert option in err, err
    assert value in err, err
    if value.lstrip("-").isdigit():
        assert f"{value} is not in the range x>=" in err, err


def test_the_walk_covers_the_kinds_of_bad_value() -> None:
    assert {v for _, _, v in BAD_VALUES} >= {"maybe", "many", "0", "-1"}
    assert len(LEAVES) >= 20


# -- help examples never write to the repo's own session files ---------------------------


def _examples() -> Iterator[tuple[str, str]]:
    """(command path, example line) for every `dcaf ...` line in every help text."""
    for command in COMMANDS.values():
        for text in (command.help or "", command.epilog or ""):
            for line in text.splitlines():
                if "dcaf " not in line or not line.startswith("  "):
                    continue
                words = shlex.split(line.split("dcaf ", 1)[1], comments=True)
                yield " ".join(_command_words(words)), line.strip()


def _command_words(words: list[str]) -> list[str]:
    path: list[str] = []
    for word in words:
        if word in getattr(COMMANDS.get(tuple(path)), "commands", {}):
            path.append(word)
        else:
            break
    return path


EXAMPLES = list(_examples())


def test_help_examples_write_no_file_of_the_repo_sessions_folder() -> None:
    assert len(EXAMPLES) > 40  # the walk finds the examples
    writing = [(c, line) for c, line in EXAMPLES if c not in READ_ONLY]
    assert {c for c, _ in writing} >= {"run", "session set", "session undo", "session new"}
    offenders = [
        line for _, line in writing if any(w.startswith("sessions/") for w in shlex.split(line))
    ]
    assert offenders == []


class Mode(StrEnum):
    fast = "fast"
    safe = "safe"


OTHER = typer.Typer(rich_markup_mode=None)


@OTHER.command()
def every_kind(
    mode: Mode,
    names: Annotated[list[str], typer.Argument()],
    *,
    when: Annotated[datetime | None, typer.Option()] = None,
    ratio: Annotated[float, typer.Option(min=0, max=1)] = 0.5,
    pair: Annotated[tuple[str, int], typer.Option()] = ("a", 1),
    out: Annotated[Path | None, typer.Option(file_okay=False)] = None,
) -> None:
    """A command with one parameter of each kind dcaf's commands do not have."""


def test_other_kinds_of_value_get_clicks_names_too(capsys: pytest.CaptureFixture[str]) -> None:
    command = typer.main.get_command(OTHER)
    install_click_metavars(command)
    command.main(["--help"], prog_name="other", standalone_mode=False)
    text = capsys.readouterr().out
    assert "Usage: other [OPTIONS] MODE NAMES..." in text, text
    assert re.search(r"mode +\{fast\|safe\}", text), text
    assert "[%Y-%m-%d|%Y-%m-%dT%H:%M:%S|%Y-%m-%d %H:%M:%S]" in text, text
    assert re.search(r"--ratio +FLOAT RANGE", text), text
    assert re.search(r"--pair +<TEXT INTEGER>\.\.\.", text), text
    assert re.search(r"--out +DIRECTORY", text), text
    assert not re.findall(r"<[a-z][a-z_|\[\] ]*>", text), text


def test_examples_with_a_comment_fit_an_80_column_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    commented = [
        (path, line.strip())
        for path, command in COMMANDS.items()
        for line in (command.epilog or "").splitlines()
        if line.startswith("  ") and "  # " in line
    ]
    assert len(commented) > 20
    broken = []
    for path, line in commented:
        shown = [row.strip() for row in _help(capsys, path).splitlines()]
        if line not in shown:
            broken.append(line)
    assert broken == [], "\n".join(broken)


def test_examples_quote_the_paths_with_brackets() -> None:
    """zsh (macOS's shell) reads an unquoted cart[0] as a pattern and stops: "no matches"."""
    bare = re.compile(r"""(?<!['"])\b\w+\[\d+\]""")
    unquoted = [line for _, line in EXAMPLES if bare.search(line.split("#")[0].split("|")[0])]
    assert unquoted == []
