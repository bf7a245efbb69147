"""Reading a tool's signature: its parameters, the session check, and the JSON schema.

Done once, at decoration time: a Pydantic model of the parameters gives validation,
coercion and the schema; the schema is then flattened (references inlined, titles
dropped) because providers handle flat schemas best.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from dcaf_cli.errors import ToolArgumentError, ToolDefinitionError
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import error_location

SESSION_PARAM = "session"
CONTEXT_PARAM = "platform_context"  # DCAF's name: the run's context, injected like the session


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


@dataclass(frozen=True, slots=True)
class Signature:
    """What a tool's signature says: what is injected, what the model fills."""

    wants_session: bool
    wants_context: bool  # a `platform_context` parameter
    accepts_extra: bool  # `**kwargs`: arguments beyond the named ones are passed on
    params: tuple[Param, ...]
    model: type[BaseModel]


# -- signature inspection --------------------------------------------------------------


def inspect_signature(
    fn: Callable[..., Any], tool_name: str, param_docs: Mapping[str, str]
) -> Signature:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # an annotation that does not resolve (a typo, a missing import)
        raise ToolDefinitionError(f"tool {tool_name!r}: cannot read its type hints: {exc}") from exc
    wants_session = wants_context = accepts_extra = False
    params: list[Param] = []
    fields: dict[str, Any] = {}
    for pname, p in inspect.signature(fn).parameters.items():
        if p.kind == p.VAR_POSITIONAL:  # never filled: the model names every argument
            continue
        if p.kind == p.VAR_KEYWORD:
            accepts_extra = True
            continue
        if pname == CONTEXT_PARAM:
            wants_context = True
            continue
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
                choices_of(annotation),
                json_type_of(annotation),
            )
        )
    model = create_model(
        f"{tool_name}_arguments",
        __config__=ConfigDict(
            extra="allow" if accepts_extra else "forbid",
            populate_by_name=False,
            arbitrary_types_allowed=False,
        ),
        **fields,
    )
    # `Annotated[..., Field(description=...)]` wins over the docstring: read the merged field.
    described = tuple(
        dataclasses.replace(p, description=model.model_fields[f"p_{i}"].description or "")
        for i, p in enumerate(params)
    )
    return Signature(wants_session, wants_context, accepts_extra, described, model)


def _is_session_type(annotation: Any) -> bool:
    """`Session`, `Session | None` or `Annotated[Session, ...]` — not `list[Session]`."""
    annotation = _strip_annotated(annotation)
    if annotation is Session or _is_dcaf_session(annotation):
        return True
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return len(args) == 1 and _is_session_type(args[0])
    return False


def _is_dcaf_session(annotation: Any) -> bool:
    """The real DCAF's Session class (when DCAF is installed): the session too."""
    return (
        isinstance(annotation, type)
        and annotation.__name__ == "Session"
        and annotation.__module__.split(".")[0] == "dcaf"
    )


def _check_session_param(tool_name: str, pname: str, annotation: Any, p: inspect.Parameter) -> bool:
    if pname == SESSION_PARAM and p.annotation is inspect.Parameter.empty:
        return True  # written without an annotation, as in DCAF's examples: still the session
    is_session_type = _is_session_type(annotation)
    if pname == SESSION_PARAM and not is_session_type:
        raise ToolDefinitionError(
            f"tool {tool_name!r}: the parameter 'session' is reserved for the injected session; "
            f"annotate it `session: Session` (from dcaf_cli import Session), or rename it "
            f"if it is an ordinary argument (it has {annotation!r})"
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


def choices_of(annotation: Any) -> tuple[Any, ...]:
    annotation = _strip_annotated(annotation)
    if get_origin(annotation) is Literal:
        return tuple(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(m.value for m in annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1:  # Optional[Literal[...]]
        return choices_of(args[0])
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


def json_type_of(annotation: Any) -> str:
    annotation = _strip_annotated(annotation)
    choices = choices_of(annotation)
    if choices:
        return json_type_of(type(choices[0]))
    origin = get_origin(annotation) or annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return json_type_of(args[0])
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


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
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


def argument_error(tool_name: str, exc: ValidationError) -> ToolArgumentError:
    """Pydantic's errors as one line: missing, unknown and bad arguments by name."""
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
