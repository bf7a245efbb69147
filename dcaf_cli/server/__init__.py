"""The HelpDesk-protocol server (needs the `server` extra: FastAPI and uvicorn).

    from dcaf_cli.server import create_app
    app = create_app(agent)            # any ASGI server can run it

`dcaf serve AGENT` runs it with uvicorn (see `entry`). `create_app` is imported on first
use, so `dcaf_cli.protocol.signing` (used by the client too) needs no FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dcaf_cli.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from dcaf_cli.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
