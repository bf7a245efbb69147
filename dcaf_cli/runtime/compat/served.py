"""DCAF's ways of starting a server, made harmless while dcaf loads a file: `serve(agent)`,
`create_app(agent)` and `create_chat_app(agent)` only note the agent, which the loader
uses when the file defines no `agent`. `dcaf serve FILE` does the serving."""

from __future__ import annotations

from typing import Any

served: list[Any] = []


def serve(agent: Any, *args: Any, **kwargs: Any) -> None:
    """DCAF's `serve()`: note the agent for the loader (dcaf does the serving)."""
    served.append(agent)


class DeferredApp:
    """What `create_app` returns here: not a server, a pointer to `dcaf serve`."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError(
            "this app was made by dcaf-cli's stand-in for DCAF's create_app; "
            "serve the file with `dcaf serve FILE`"
        )


def create_app(agent: Any, *args: Any, **kwargs: Any) -> DeferredApp:
    served.append(agent)
    return DeferredApp(agent)
