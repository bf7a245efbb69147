"""DCAF's tool API: `tool` with DCAF's default (`requires_approval=True`), `create_tool`
and `Tool`, all making dcaf-cli tools.

DCAF's decorator is "safe by default": a tool asks before it runs unless it says
`requires_approval=False`. A file importing `tool` from `dcaf.tools` or `dcaf.core` gets
that default here too; `dcaf_cli.tool` keeps dcaf-cli's own (`False`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from dcaf_cli.tools.tool import Tool


def _is_schema(value: object) -> bool:
    return isinstance(value, Mapping) or (isinstance(value, type) and issubclass(value, BaseModel))


def dcaf_tool(
    func: Any = None,
    /,
    *,
    description: str | None = None,
    name: str | None = None,
    requires_approval: bool = True,
    schema: Any = None,
) -> Any:
    """`@tool`, `@tool(...)` or `@tool(schema)` (DCAF's first, positional form)."""
    if func is not None and _is_schema(func):
        func, schema = None, func

    def wrap(fn: Callable[..., Any]) -> Tool[..., Any]:
        return Tool(
            fn,
            name=name,
            description=description,
            requires_approval=requires_approval,
            schema=schema,
        )

    return wrap(func) if func is not None else wrap


def create_tool(
    func: Callable[..., Any],
    schema: Any = None,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
) -> Tool[..., Any]:
    """DCAF's `create_tool`: a tool without a decorator (approval off unless asked)."""
    return Tool(
        func,
        name=name,
        description=description,
        requires_approval=requires_approval,
        schema=schema,
    )
