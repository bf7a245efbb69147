"""The REPL's line history: a private file (0600, like session files) that never records
a line holding what the views would hide (`/remember password hunter2`)."""

from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit.history import FileHistory

from dcaf_cli.session.redact import mentions_secret


class PrivateHistory(FileHistory):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a file an older dcaf created 0644
        finally:
            os.close(fd)
        super().__init__(str(path))

    def store_string(self, string: str) -> None:
        if not mentions_secret(string):
            super().store_string(string)
