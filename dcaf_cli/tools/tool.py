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

from dcaf_cli.errors import ToolDefinitionError
from dcaf_cli.session.session import Session
from dcaf_cli.tools.docstrings import parse_docstring
from dcaf_cli.tools.given_schema import given_schema
from dcaf_cli.tools.signature import (
    CONTEXT_PARAM,
    SESSION_PARAM,
    argument_error,
    clean_schema,
    inspect_signature,
)

P = ParamSpec("P")
R = TypeVar("R")


class Tool(typing.Generic[P, R]):
    """A function the agent can call. Calling the tool object calls the function."""

    def __init__(
        self,
        func: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        requires_approval: bool = False,
        schema: Any = None,
        input_schema: Any = None,
    ) -> None:
        if not callable(func) or isinstance(func, type):
            raise ToolDefinitionError(f"@tool needs a function, got {func!r}")
        functools.update_wrapper(self, func)
        self.fn = func
        self._call: Callable[..., Any] = func  # called with validated keyword arguments
        given = schema if schema is not None else input_schema
        self.name = name or func.__name__
        spec = given_schema(given, self.name) if given is not None else None
        if spec is not None and spec.name and not name:
            self.name = spec.name
        summary, param_docs = parse_docstring(func.__doc__)
        self.description = (
            description or (spec and spec.description) or summary or self.name.replace("_", " ")
        )
        self.requires_approval = requires_approval
        self.is_async = inspect.iscoroutinefunction(func)
        try:
            sig = inspect_signature(func, self.name, param_docs)
            schema_json = sig.model.model_json_schema(by_alias=True) if spec is None else {}
        except PydanticUserError as exc:  # a parameter type pydantic cannot validate or describe
            raise ToolDefinitionError(
                f"tool {self.name!r}: a parameter type cannot be used: "
                f"{exc.message.splitlines()[0]} Use JSON "
                "types, Literal, Enum, Pydantic models or dataclasses"
            ) from exc
        self.wants_session, self.wants_context = sig.wants_session, sig.wants_context
        self.accepts_extra = sig.accepts_extra  # `**kwargs`: other named arguments pass on
        self.input_model = sig.model
        self._signature = sig
        self._given = spec
        # A given schema wins over the signature: it is what the model sees and checks.
        self.params = spec.params if spec is not None else sig.params
        self.parameters: dict[str, Any] = (
            spec.parameters if spec is not None else clean_schema(schema_json)
        )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tool {self.name}{' (requires approval)' if self.requires_approval else ''}>"

    # -- validation ------------------------------------------------------------------

    def validate(self, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validated, coerced keyword arguments (`"2"` becomes `2`), without the session."""
        if self._given is not None:
            checked = self._given.validate(arguments or {})
            return {k: v for k, v in checked.items() if self._accepts(k)}
        try:
            model = self.input_model.model_validate(dict(arguments or {}))
        except ValidationError as exc:
            raise argument_error(self.name, exc) from None
        kwargs = {p.name: getattr(model, f"p_{i}") for i, p in enumerate(self.params)}
        return {**(model.model_extra or {}), **kwargs}  # extras only reach a **kwargs tool

    def _accepts(self, name: str) -> bool:
        """Whether the function takes an argument of this name (a given schema may name
        more than the function declares, as DCAF allows)."""
        sig = self._signature
        return sig.accepts_extra or any(p.name == name for p in sig.params)

    def listing(self) -> dict[str, Any]:
        """The tool as `dcaf tools --json` and the server's `GET /api/tools` show it."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
            "requires_approval": self.requires_approval,
        }

    def missing(self, arguments: Mapping[str, Any] | None) -> list[str]:
        """Required parameters absent from `arguments`."""
        given = arguments or {}
        return [p.name for p in self.params if p.required and p.name not in given]

    # -- calling ---------------------------------------------------------------------

    def invoke(
        self,
        arguments: Mapping[str, Any] | None = None,
        session: Session | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Validate `arguments` and call the tool; a failing tool leaves `session` untouched.
        `context` reaches a `platform_context` parameter."""
        if self.is_async:
            return _run_coroutine(self.ainvoke(arguments, session, context))
        kwargs = self._kwargs(arguments, session, context)
        if session is None:
            return self._call(**kwargs)
        with session.transaction():
            return self._call(**kwargs)

    async def ainvoke(
        self,
        arguments: Mapping[str, Any] | None = None,
        session: Session | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """`invoke` for event loops: awaits async tools, calls sync ones."""
        kwargs = self._kwargs(arguments, session, context)
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
        self,
        arguments: Mapping[str, Any] | None,
        session: Session | None,
        context: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        kwargs = self.validate(arguments)
        if self.wants_session:
            kwargs[SESSION_PARAM] = session if session is not None else Session()
        if self.wants_context:
            kwargs[CONTEXT_PARAM] = dict(context or {})
        return kwargs

    # -- DCAF's Tool object API ------------------------------------------------------

    @property
    def func(self) -> Callable[P, R]:
        return self.fn

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.parameters

    @property
    def requires_platform_context(self) -> bool:
        return self.wants_context

    def get_schema(self) -> dict[str, Any]:
        """The tool as a model is told about it: name, description, input schema."""
        return {"name": self.name, "description": self.description, "input_schema": self.parameters}

    def get_input_schema(self) -> dict[str, Any]:
        return self.parameters

    def execute(
        self, input_args: Mapping[str, Any], platform_context: Mapping[str, Any] | None = None
    ) -> str:
        """Validate and run, with the result as text (DCAF's `Tool.execute`)."""
        return str(self.invoke(input_args, context=platform_context))


@overload
def tool(fn: Callable[P, R], /) -> Tool[P, R]: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
    schema: Any = None,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
    schema: Any = None,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Make a function a tool: `@tool` or `@tool(description=..., requires_approval=True)`.

    A parameter `session: Session` receives the conversation's session and is hidden from
    the model, as does `platform_context` (the run's context); every other parameter is
    filled by the model and validated first. `schema=` (a Pydantic model class, a JSON
    Schema dict or a whole tool spec) replaces the schema the signature would give.
    """

    def wrap(f: Callable[P, R]) -> Tool[P, R]:
        return Tool(
            f,
            name=name,
            description=description,
            requires_approval=requires_approval,
            schema=schema,
        )

    return wrap(fn) if fn is not None else wrap


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
