"""A replay report as JUnit XML, the format CI systems show as test results: one test
suite per session file, one test case per turn."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from dcaf_cli.session.jsontext import dumps
from dcaf_cli.testing.replayer import ReplayReport


def junit_xml(report: ReplayReport) -> bytes:
    c = report.counts()
    suite = ET.Element(
        "testsuite",
        name=f"dcaf replay {report.source}",
        tests=str(len(report.turns)),
        failures=str(c["diverged"]),
        errors=str(c["failed"]),
        skipped=str(c["given"]),
        time=f"{sum(t.duration_ms for t in report.turns) / 1000:.3f}",
    )
    for turn in report.turns:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=Path(report.source).stem,
            name=f"turn {turn.n}: {' '.join(turn.input.split())[:80]}",
            time=f"{turn.duration_ms / 1000:.3f}",
        )
        if turn.verdict == "given":
            ET.SubElement(case, "skipped", message="made by hand: applied as recorded")
        elif turn.verdict in ("diverged", "failed"):
            tag = "failure" if turn.verdict == "diverged" else "error"
            detail = ET.SubElement(case, tag, message="; ".join(turn.problems))
            detail.text = dumps(turn.to_json(), indent=2)
    body: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return body


def write_junit(report: ReplayReport, path: str | os.PathLike[str]) -> None:
    Path(path).write_bytes(junit_xml(report))
