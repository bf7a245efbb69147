"""The developer tooling agrees with itself: the pre-commit hooks run what `make lint` runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def lint_programs() -> set[str]:
    """The programs the Makefile's `lint` recipe runs from the venv."""
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None, "the Makefile has no lint target"
    return set(re.findall(r"\$\(BIN\)/([\w-]+)", recipe[1]))


def test_the_hooks_run_the_lint_programs_of_the_venv() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    programs = {entry.split()[0] for entry in entries}
    assert all(p.startswith(".venv/bin/") for p in programs), programs
    assert {p.removeprefix(".venv/bin/") for p in programs} == lint_programs()
    bin_dir = Path(sys.executable).parent
    assert all((bin_dir / Path(p).name).exists() for p in programs)  # the dev extra has them


def test_pre_commit_accepts_the_configuration() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
