"""Session files as regression tests: replay a file's recorded turns against the agent's
current code and compare, turn by turn, the session change and the tool calls.

    from dcaf_cli.testing import replay

    report = replay("tests/sessions/shop.json")          # the agent recorded in the file
    assert report.ok, str(report)                         # the first divergence, in one line

`dcaf replay FILE` does the same from the shell, and `pytest --dcaf-replay DIR` collects
each session file in DIR as a test (the plugin in `dcaf_cli.testing.plugin`). Names are
imported on first use, so the pytest plugin costs nothing in runs that do not replay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dcaf_cli.testing.api import agent_for, replay
    from dcaf_cli.testing.replayer import ReplayOptions, ReplayReport, TurnReplay

_EXPORTS = {
    "agent_for": "dcaf_cli.testing.api",
    "replay": "dcaf_cli.testing.api",
    "ReplayOptions": "dcaf_cli.testing.replayer",
    "ReplayReport": "dcaf_cli.testing.replayer",
    "TurnReplay": "dcaf_cli.testing.replayer",
}

__all__ = ["ReplayOptions", "ReplayReport", "TurnReplay", "agent_for", "replay"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
