"""The pytest plugin: `pytest --dcaf-replay tests/sessions/` collects each session file
(`*.json`) under the given paths as one test, which fails with the first divergence.

Registered through the `pytest11` entry point, so it is there wherever dcaf-cli is
installed; without `--dcaf-replay` it collects nothing and imports nothing of dcaf.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dcaf_cli.testing.replayer import ReplayReport


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dcaf", "dcaf session replay")
    group.addoption(
        "--dcaf-replay",
        action="store_true",
        help="collect session files (*.json) in the paths given as replay tests",
    )
    group.addoption(
        "--dcaf-agent",
        metavar="AGENT",
        help="replay against this agent instead of the one each file recorded",
    )
    group.addoption(
        "--dcaf-model",
        metavar="MODEL",
        help="send the recorded messages again with this model (default: re-run tool calls)",
    )
    group.addoption(
        "--dcaf-ignore",
        action="append",
        default=[],
        metavar="POINTER",
        help="a JSON Pointer (* for any key) to leave out of the comparison; repeatable",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if parent.config.getoption("dcaf_replay") and file_path.suffix == ".json":
        return SessionFileTests.from_parent(parent, path=file_path)
    return None


class SessionFileTests(pytest.File):
    def collect(self) -> list[pytest.Item]:
        return [ReplayItem.from_parent(self, name=f"replay[{self.path.name}]")]


class ReplayDiverged(Exception):
    def __init__(self, report: ReplayReport) -> None:
        super().__init__(str(report))
        self.report = report


class ReplayItem(pytest.Item):
    def runtest(self) -> None:
        from dcaf_cli.testing.api import replay

        options = self.config.getoption
        report = replay(
            self.path,
            options("dcaf_agent"),
            model=options("dcaf_model"),
            ignore=options("dcaf_ignore"),
        )
        if not report.ok:
            raise ReplayDiverged(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ReplayDiverged):
            return _explain(excinfo.value.report)
        from dcaf_cli.errors import DcafError

        if isinstance(excinfo.value, DcafError):
            return f"{self.path}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"dcaf replay {self.path.name}"


def _explain(report: ReplayReport) -> str:
    first = report.first_divergence
    lines = [str(report)]
    if first is not None:
        data = first.to_json()
        lines += [
            f"  recorded patch: {json.dumps(data['recorded_patch'], ensure_ascii=False)}",
            f"  actual patch:   {json.dumps(data['actual_patch'], ensure_ascii=False)}",
        ]
    lines.append(f"  {report.summary()}")
    return "\n".join(lines)
