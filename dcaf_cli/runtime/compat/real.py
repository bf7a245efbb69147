"""The real DCAF, when it is installed beside dcaf-cli: its `Agent` and `Tool` objects are
read into dcaf-cli's (tools, prompt, model, interceptors), and its `serve` is held back
while a file loads, so loading never starts DCAF's server.

Only DCAF's public attributes and the constructor arguments it keeps are read; an
interceptor raising DCAF's `InterceptorError` blocks the turn as dcaf-cli's does.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import sys
from collections.abc import Callable, Iterator
from typing import Any

from dcaf_cli.runtime.compat.served import create_app, serve
from dcaf_cli.runtime.interceptors import InterceptorError
from dcaf_cli.tools.tool import Tool

# Where DCAF's server starters live; each is replaced by a recorder while a file loads.
STARTERS = (
    ("dcaf.core", "serve", serve),
    ("dcaf.core.server", "serve", serve),
    ("dcaf.core", "create_app", create_app),
    ("dcaf.core.server", "create_app", create_app),
)


@contextlib.contextmanager
def servers_held() -> Iterator[None]:
    """While loading a file: DCAF's `serve` and `create_app` only note the agent (the
    stand-ins' always do, and are not made for a file that does not import them)."""
    from dcaf_cli.runtime.compat import real_dcaf_installed

    saved: list[tuple[Any, str, Any]] = []
    for module_name, attr, stand_in in STARTERS if real_dcaf_installed() else ():
        try:
            module = importlib.import_module(module_name)
        except Exception:  # not this version of DCAF, or it cannot import: nothing to hold
            continue
        if hasattr(module, attr):
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, stand_in)
    try:
        yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


def _from_dcaf(obj: object, kind: str) -> bool:
    cls = type(obj)
    return cls.__name__ == kind and cls.__module__.split(".")[0] == "dcaf"


def is_real_tool(obj: object) -> bool:
    return _from_dcaf(obj, "Tool") and "dcaf" in sys.modules


def is_real_agent(obj: object) -> bool:
    return _from_dcaf(obj, "Agent") and "dcaf" in sys.modules


def read_tool(obj: Any) -> Tool[..., Any]:
    """A DCAF `Tool` as a dcaf-cli tool, with DCAF's schema and approval flag."""
    spec = obj.get_schema() if callable(getattr(obj, "get_schema", None)) else None
    return Tool(
        obj.func,
        name=obj.name,
        description=obj.description,
        requires_approval=bool(obj.requires_approval),
        schema=spec,
    )


def read_agent(obj: Any) -> Any:
    """A DCAF `Agent` as dcaf-cli's DCAF agent: the same tools, prompt, model, context
    and interceptors."""
    from dcaf_cli.runtime.compat.agent import DcafAgent

    tools = [read_tool(t) if is_real_tool(t) else t for t in getattr(obj, "tools", [])]
    return DcafAgent(
        tools=tools,
        model=getattr(obj, "model", None),
        provider=getattr(obj, "provider", None),
        system_prompt=getattr(obj, "system_prompt", None),
        system_context=getattr(obj, "_system_context", None),
        request_interceptors=[_translated(f) for f in getattr(obj, "_request_interceptors", [])],
        response_interceptors=[_translated(f) for f in getattr(obj, "_response_interceptors", [])],
        aws_profile=getattr(obj, "_aws_profile", None),
        aws_region=getattr(obj, "_aws_region", None),
        api_key=getattr(obj, "_api_key", None),
        name=getattr(obj, "name", None),
        description=getattr(obj, "description", None),
    )


def _translated(interceptor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The interceptor, with DCAF's InterceptorError made dcaf-cli's."""

    def blocked(exc: Exception) -> InterceptorError:
        return InterceptorError(
            str(getattr(exc, "user_message", exc)),
            getattr(exc, "code", None),
            getattr(exc, "details", None),
        )

    def is_dcaf_block(exc: Exception) -> bool:
        return type(exc).__name__ == "InterceptorError" and hasattr(exc, "user_message")

    if inspect.iscoroutinefunction(interceptor):

        @functools.wraps(interceptor)
        async def run_async(value: Any) -> Any:
            try:
                return await interceptor(value)
            except Exception as exc:
                if is_dcaf_block(exc):
                    raise blocked(exc) from exc
                raise

        return run_async

    @functools.wraps(interceptor)
    def run(value: Any) -> Any:
        try:
            return interceptor(value)
        except Exception as exc:
            if is_dcaf_block(exc):
                raise blocked(exc) from exc
            raise

    return run
