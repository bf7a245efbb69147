"""A schema given to `@tool(schema=...)` instead of the one the signature would give.

Three forms, as DCAF accepts them: a Pydantic model class, a JSON Schema dict of the
arguments (`{"type": "object", "properties": ...}`), or a whole tool spec (`{"name",
"description", "input_schema"}`). The given schema is what the model sees and what the
arguments are validated against; the function then receives the arguments it declares.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from dcaf_cli.errors import ToolArgumentError, ToolDefinitionError
from dcaf_cli.tools.signature import (
    Param,
    argument_error,
    choices_of,
    clean_schema,
    json_type_of,
)

Validator = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class GivenSchema:
    name: str | None  # from a whole tool spec
    description: str | None
    parameters: dict[str, Any]
    params: tuple[Param, ...]
    validate: Validator  # the checked arguments, as JSON values


def given_schema(schema: Any, tool_name: str) -> GivenSchema:
    """Read `schema` in any of its three forms; a schema that cannot be used is a
    ToolDefinitionError naming the tool."""
    if isinstance(schema, BaseModel):
        schema = type(schema)
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return _from_model(schema, tool_name)
    if isinstance(schema, Mapping):
        spec = dict(schema)
        if isinstance(spec.get("input_schema"), Mapping):
            inner = _from_json_schema(dict(spec["input_schema"]), tool_name)
            return GivenSchema(
                _text(spec.get("name")),
                _text(spec.get("description")),
                inner.parameters,
                inner.params,
                inner.validate,
            )
        return _from_json_schema(spec, tool_name)
    raise ToolDefinitionError(
        f"tool {tool_name!r}: schema= takes a Pydantic model class, a JSON Schema dict or a "
        f"tool spec dict (name, description, input_schema), not {type(schema).__name__}"
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_model(model: type[BaseModel], tool_name: str) -> GivenSchema:
    params = tuple(
        Param(
            field.alias or name,
            field.annotation,
            field.is_required(),
            None if field.is_required() else field.get_default(call_default_factory=True),
            field.description or "",
            choices_of(field.annotation),
            json_type_of(field.annotation),
        )
        for name, field in model.model_fields.items()
    )

    def validate(arguments: Mapping[str, Any]) -> dict[str, Any]:
        try:
            checked = model.model_validate(dict(arguments))
        except ValidationError as exc:
            raise argument_error(tool_name, exc) from None
        # JSON values, as the model sent them (checked and coerced): what DCAF passes on.
        dumped: dict[str, Any] = checked.model_dump(mode="json", by_alias=True)
        return dumped

    parameters = clean_schema(model.model_json_schema(by_alias=True))
    return GivenSchema(None, None, parameters, params, validate)


def _from_json_schema(schema: dict[str, Any], tool_name: str) -> GivenSchema:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    parameters = copy.deepcopy(schema)
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    if parameters["type"] != "object" or not isinstance(parameters["properties"], dict):
        raise ToolDefinitionError(
            f"tool {tool_name!r}: schema= must describe an object of named arguments "
            '({"type": "object", "properties": {...}})'
        )
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        raise ToolDefinitionError(
            f"tool {tool_name!r}: schema= is not valid: {exc.message}"
        ) from exc
    checker = Draft202012Validator(parameters)
    required = set(parameters.get("required") or [])

    def validate(arguments: Mapping[str, Any]) -> dict[str, Any]:
        given = dict(arguments)
        errors = sorted(checker.iter_errors(given), key=lambda e: list(e.absolute_path))
        if errors:
            missing = [n for n in sorted(required) if n not in given]
            problems = [f"missing required argument {n!r}" for n in missing]
            problems += [
                f"argument {'.'.join(map(str, e.absolute_path)) or 'arguments'!r}: {e.message}"
                for e in errors
                if e.validator != "required"
            ]
            raise ToolArgumentError(tool_name, problems, missing=missing)
        defaults = {
            name: prop["default"]
            for name, prop in parameters["properties"].items()
            if isinstance(prop, dict) and "default" in prop and name not in given
        }
        return {**defaults, **given}

    params = tuple(
        _param(name, prop if isinstance(prop, dict) else {}, name in required)
        for name, prop in parameters["properties"].items()
    )
    return GivenSchema(None, None, parameters, params, validate)


def _param(name: str, prop: dict[str, Any], required: bool) -> Param:
    kind = prop.get("type", "")
    if isinstance(kind, list):  # ["string", "null"]
        kind = next((k for k in kind if k != "null"), "")
    choices = tuple(prop.get("enum") or ())
    if not kind and choices:  # {"enum": [...]} alone: the type of its values
        kind = choices_json_type(choices)
    return Param(
        name,
        Any,
        required,
        prop.get("default"),
        str(prop.get("description", "")),
        choices,
        kind if isinstance(kind, str) else "",
    )


def choices_json_type(choices: tuple[Any, ...]) -> str:
    kinds = {json_type_of(type(c)) for c in choices}
    return kinds.pop() if len(kinds) == 1 else ""
