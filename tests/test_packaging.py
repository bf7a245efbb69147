"""The package as pip builds and installs it: what the wheel holds, and a quiet install.

Each build runs on a copy of the sources in `tmp_path` with the venv's own setuptools
(`--no-build-isolation --no-index`), so it reaches no index and leaves no `build/` folder
in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "dcaf_cli", copy / "dcaf_cli", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the venv's pip offline, without the machine's pip configuration."""
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-deps", "--no-build-isolation", "--no-index"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def warnings_in(done: subprocess.CompletedProcess[str]) -> list[str]:
    lines = (done.stdout + done.stderr).splitlines()
    return [line for line in lines if "warning" in line.lower() or "deprecat" in line.lower()]


def test_the_wheel_ships_the_type_marker_and_the_data_files(sources: Path, tmp_path: Path) -> None:
    built = pip("wheel", "--wheel-dir", str(tmp_path / "dist"), str(sources))
    assert warnings_in(built) == []
    [wheel] = (tmp_path / "dist").glob("dcaf_cli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dcaf_cli/py.typed" in names  # agent authors get the package's types
    assert "dcaf_cli/examples/shop.py" in names
    assert any(n.startswith("dcaf_cli/schemas/") and n.endswith(".json") for n in names)
    assert all(n.startswith(("dcaf_cli/", "dcaf_cli-")) for n in names), names  # no tests
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_an_editable_install_prints_no_warning(sources: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    done = pip(
        "install",
        "--ignore-installed",  # leaves the venv's own dcaf-cli installed
        "--prefix",
        str(prefix),
        "--no-warn-script-location",
        "--editable",
        str(sources),
    )
    assert warnings_in(done) == []
    [pth] = prefix.glob("lib/python*/site-packages/__editable__.dcaf_cli-*.pth")
    assert pth.read_text().split() == [str(sources)]  # the copy's root is the import root
    assert Path(sys.executable).with_name("dcaf").exists()  # the venv's install is untouched
