"""Where dcaf keeps its own files (prompt history): `DCAF_HOME`, else the user data dir."""

from __future__ import annotations

import os
from pathlib import Path


def dcaf_home() -> Path:
    override = os.environ.get("DCAF_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("dcaf", appauthor=False))


def history_file() -> Path:
    return dcaf_home() / "history"
