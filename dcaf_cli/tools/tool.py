"""`@tool`: typed Python functions an agent can call, with the session injected.

The decorator reads the signature once: it builds a Pydantic model of the parameters
(for validation, coercion and the JSON schema the model sees), checks the session
parameter, and returns a `Tool` that is still callable as the original function.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

from pydantic import PydanticUserError, ValidationError

from dcaf_cli.errors import ToolArgumentError, ToolDefinitionError
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import error_location
from dcaf_cli.tools.docstrings import parse_docstring
from dcaf_cli.tools.signature import SESSION_PARAM, clean_schema, inspect_signature

P = ParamSpec("P")
R = TypeVar("R")


class Tool(typing.Generic[P, R]):
    """A function the agent can call. Calling the tool object calls the function."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        requires_approval: bool = False,
    ) -> None:
        if not callable(fn):
            raise ToolDefinitionError(f"@tool needs a function, got {fn!r}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self._call: Callable[..., Any] = fn  # called with validated keyword arguments
        self.name = name or fn.__name__
        summary, param_docs = parse_docstring(fn.__doc__)
        self.description = description or summary or self.name.replace("_", " ")
        self.requires_approval = requires_approval
        self.is_async = inspect.iscoroutinefunction(fn)
        try:
            self.wants_session, self.params, self.input_model = inspect_signature(
                fn, self.name, param_docs
            )
            schema = self.input_model.model_json_schema(by_alias=True)
        except PydanticUserError as exc:  # a parameter type pydantic cannot validate or describe
            raise ToolDefinitionError(
                f"tool {self.name!r}: a parameter type cannot be used: "
                f"{exc.message.splitlines()[0]} Use JSON "
                "types, Literal, Enum, Pydantic models or dataclasses"
            ) from exc
        self.parameters: dict[str, Any] = clean_schema(schema)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tool {self.name}{' (requires approval)' if self.requires_approval else ''}>"

    # -- validation ------------------------------------------------------------------

    def validate(self, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validated, coerced keyword arguments (`"2"` becomes `2`), without the session."""
        try:
            model = self.input_model.model_validate(dict(arguments or {}))
        except ValidationError as exc:
            raise _argument_error(self.name, exc) from None
        return {p.name: getattr(model, f"p_{i}") for i, p in enumerate(self.params)}

    def missing(self, arguments: Mapping[str, Any] | None) -> list[str]:
        """Required parameters absent from `arguments`."""
        given = arguments or {}
        return [p.name for p in self.params if p.required and p.name not in given]

    # -- calling ---------------------------------------------------------------------

    def invoke(
        self, arguments: Mapping[str, Any] | None = None, session: Session | None = None
    ) -> Any:
        """Validate `arguments` and call the tool; a failing tool leaves `session` untouched."""
        if self.is_async:
            return _run_coroutine(self.ainvoke(arguments, session))
        kwargs = self._kwargs(arguments, session)
        if session is None:
            return self._call(**kwargs)
        with session.transaction():
            return self._call(**kwargs)

    async def ainvoke(
        self, arguments: Mapping[str, Any] | None = None, session: Session | None = None
    ) -> Any:
        """`invoke` for event loops: awaits async tools, calls sync ones."""
        kwargs = self._kwargs(arguments, session)
        tx = session.transaction() if session is not None else None
        try:
            result = self._call(**kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException:
            if tx is not None:
                tx.rollback()
            raise
        if tx is not None:
            tx.commit()
        return result

    def _kwargs(
        self, arguments: Mapping[str, Any] | None, session: Session | None
    ) -> dict[str, Any]:
        kwargs = self.validate(arguments)
        if self.wants_session:
            kwargs[SESSION_PARAM] = session if session is not None else Session()
        return kwargs


@overload
def tool(fn: Callable[P, R], /) -> Tool[P, R]: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, requires_approval: bool = False
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Make a function a tool: `@tool` or `@tool(description=..., requires_approval=True)`.

    A parameter `session: Session` receives the conversation's session and is hidden from
    the model; every other parameter is filled by the model and validated first.
    """

    def wrap(f: Callable[P, R]) -> Tool[P, R]:
        return Tool(f, name=name, description=description, requires_approval=requires_approval)

    return wrap(fn) if fn is not None else wrap


def _argument_error(tool_name: str, exc: ValidationError) -> ToolArgumentError:
    problems: list[str] = []
    missing: list[str] = []
    for err in exc.errors():
        where = error_location(err["loc"], "arguments")
        if err["type"] == "missing" and len(err["loc"]) == 1:
            missing.append(where)
            problems.append(f"missing required argument {where!r}")
        elif err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
            problems.append(f"unknown argument {where!r}")
        else:
            problems.append(f"argument {where!r}: {err['msg']} (got {err.get('input')!r:.60})")
    return ToolArgumentError(tool_name, problems, missing=missing)


def _run_coroutine(coro: Awaitable[R]) -> R:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    close = getattr(coro, "close", None)
    if close is not None:
        close()
    raise RuntimeError(
        "an async tool was invoked from a running event loop; use `await tool.ainvoke(...)`"
    )
