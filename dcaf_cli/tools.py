"""`@tool`: typed Python functions an agent can call, with the session injected.

The decorator reads the signature once: it builds a Pydantic model of the parameters
(for validation, coercion and the JSON schema the model sees), checks the session
parameter, and returns a `Tool` that is still callable as the original function.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, ParamSpec, TypeVar, get_args, get_origin, overload

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, ValidationError, create_model
from pydantic.fields import FieldInfo

from dcaf_cli.docstrings import parse_docstring
from dcaf_cli.errors import ToolArgumentError, ToolDefinitionError
from dcaf_cli.session import Session

P = ParamSpec("P")
R = TypeVar("R")

SESSION_PARAM = "session"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter the model fills, as the offline model and the REPL need it."""

    name: str
    annotation: Any
    required: bool
    default: Any
    description: str
    choices: tuple[Any, ...]  # the values of a Literal or Enum, else empty
    json_type: str  # "string", "integer", "number", "boolean", "array", "object" or ""


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
            self.wants_session, self.params, self.input_model = _inspect_signature(
                fn, self.name, param_docs
            )
            schema = self.input_model.model_json_schema(by_alias=True)
        except PydanticUserError as exc:  # a parameter type pydantic cannot validate or describe
            raise ToolDefinitionError(
                f"tool {self.name!r}: a parameter type cannot be used: "
                f"{exc.message.splitlines()[0]} Use JSON "
                "types, Literal, Enum, Pydantic models or dataclasses"
            ) from exc
        self.parameters: dict[str, Any] = _clean_schema(schema)

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


# -- signature inspection --------------------------------------------------------------


def _inspect_signature(
    fn: Callable[..., Any], tool_name: str, param_docs: Mapping[str, str]
) -> tuple[bool, tuple[Param, ...], type[BaseModel]]:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # an annotation that does not resolve (a typo, a missing import)
        raise ToolDefinitionError(f"tool {tool_name!r}: cannot read its type hints: {exc}") from exc
    wants_session = False
    params: list[Param] = []
    fields: dict[str, Any] = {}
    for pname, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"tool {tool_name!r}: *{pname} is not supported; give every argument a name"
            )
        annotation = hints.get(pname, Any)
        if _check_session_param(tool_name, pname, annotation, p):
            wants_session = True
            continue
        required = p.default is inspect.Parameter.empty
        default = ... if required else p.default
        # An `Annotated[..., Field(description=...)]` wins over the docstring's `Args:`.
        description = _annotated_description(annotation) or param_docs.get(pname, "")
        default_: Any = default
        field = Field(default_, alias=pname, description=description or None)
        fields[f"p_{len(params)}"] = (annotation, field)
        params.append(
            Param(
                pname,
                annotation,
                required,
                None if required else p.default,
                description,
                _choices(annotation),
                _json_type(annotation),
            )
        )
    model = create_model(
        f"{tool_name}_arguments",
        __config__=ConfigDict(
            extra="forbid", populate_by_name=False, arbitrary_types_allowed=False
        ),
        **fields,
    )
    # `Annotated[..., Field(description=...)]` wins over the docstring: read the merged field.
    described = tuple(
        dataclasses.replace(p, description=model.model_fields[f"p_{i}"].description or "")
        for i, p in enumerate(params)
    )
    return wants_session, described, model


def _is_session_type(annotation: Any) -> bool:
    """`Session`, `Session | None` or `Annotated[Session, ...]` — not `list[Session]`."""
    annotation = _strip_annotated(annotation)
    if annotation is Session:
        return True
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return len(args) == 1 and _is_session_type(args[0])
    return False


def _check_session_param(tool_name: str, pname: str, annotation: Any, p: inspect.Parameter) -> bool:
    is_session_type = _is_session_type(annotation)
    if pname == SESSION_PARAM and not is_session_type:
        got = "no annotation" if p.annotation is inspect.Parameter.empty else f"{annotation!r}"
        raise ToolDefinitionError(
            f"tool {tool_name!r}: the parameter 'session' is reserved for the injected session; "
            f"annotate it `session: Session` (from dcaf_cli import Session), or rename it "
            f"if it is an ordinary argument (it has {got})"
        )
    if is_session_type and pname != SESSION_PARAM:
        raise ToolDefinitionError(
            f"tool {tool_name!r}: parameter {pname!r} is typed Session but only a parameter "
            f"named exactly 'session' receives the session; rename it to `session: Session`"
        )
    if not is_session_type and _mentions_session(annotation):
        raise ToolDefinitionError(
            f"tool {tool_name!r}: parameter {pname!r} has a type containing Session "
            f"({annotation!r}); the session is injected only as `session: Session`"
        )
    return is_session_type


def _mentions_session(annotation: Any) -> bool:
    return annotation is Session or any(_mentions_session(a) for a in get_args(annotation))


def _annotated_description(annotation: Any) -> str:
    if get_origin(annotation) is not typing.Annotated:
        return ""
    for meta in reversed(get_args(annotation)[1:]):
        if isinstance(meta, FieldInfo) and meta.description:
            return meta.description
    return _annotated_description(get_args(annotation)[0])


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _choices(annotation: Any) -> tuple[Any, ...]:
    annotation = _strip_annotated(annotation)
    if get_origin(annotation) is Literal:
        return tuple(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(m.value for m in annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1:  # Optional[Literal[...]]
        return _choices(args[0])
    return ()


_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (tuple, "array"),
    (set, "array"),
    (dict, "object"),
    (BaseModel, "object"),
)


def _json_type(annotation: Any) -> str:
    annotation = _strip_annotated(annotation)
    choices = _choices(annotation)
    if choices:
        return _json_type(type(choices[0]))
    origin = get_origin(annotation) or annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _json_type(args[0])
    if isinstance(origin, type):
        for py, name in _JSON_TYPES:
            if issubclass(origin, py):
                return name
        if hasattr(origin, "__dataclass_fields__"):
            return "object"
    return ""


# -- schema and errors -----------------------------------------------------------------


# Keywords whose values are data, not schemas: a default `{"title": "Mr"}` stays intact.
_VALUE_KEYWORDS = frozenset({"default", "enum", "const", "examples"})
# Keywords whose values map names (which may be "title" or "default") to schemas.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline `$ref`s (providers handle flat schemas best) and drop pydantic's titles.

    A recursive model cannot be inlined: its references stay, and `$defs` keeps just the
    definitions they point to (themselves cleaned).
    """
    defs: dict[str, Any] = schema.pop("$defs", {})
    kept: dict[str, Any] = {}

    def resolve(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [resolve(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen:
                if name not in kept:
                    kept[name] = {}  # claimed first, so the recursion below stops here
                    kept[name] = resolve(defs[name], frozenset({name}))
                return node
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**resolve(defs[name], seen | {name}), **resolve(extra, seen)}
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k == "title" and isinstance(v, str):
                continue
            if k in _VALUE_KEYWORDS:
                out[k] = v
            elif k in _SCHEMA_MAPS and isinstance(v, dict):
                out[k] = {name: resolve(sub, seen) for name, sub in v.items()}
            else:
                out[k] = resolve(v, seen)
        return out

    cleaned: dict[str, Any] = resolve(schema, frozenset())
    cleaned.pop("additionalProperties", None)
    cleaned.setdefault("properties", {})
    cleaned["type"] = "object"
    if kept:
        cleaned["$defs"] = kept
    return cleaned


def _argument_error(tool_name: str, exc: ValidationError) -> ToolArgumentError:
    problems: list[str] = []
    missing: list[str] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
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
