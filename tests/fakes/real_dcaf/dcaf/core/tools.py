from typing import Any, Callable, Optional

from pydantic import BaseModel, ConfigDict


class Tool(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    func: Callable
    name: str
    description: str
    input_schema: dict
    requires_approval: bool = False
    requires_platform_context: bool = False

    def get_schema(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


def _schema_of(func: Callable, schema: Any) -> dict:
    if isinstance(schema, dict):
        return schema
    if schema is not None:
        return schema.model_json_schema()
    names = [
        n
        for n in func.__code__.co_varnames[: func.__code__.co_argcount]
        if n not in ("platform_context", "session")
    ]
    return {
        "type": "object",
        "properties": {n: {"type": "string"} for n in names},
        "required": names,
    }


def tool(
    func: Optional[Callable] = None,
    *,
    description: Optional[str] = None,
    name: Optional[str] = None,
    requires_approval: bool = True,
    schema: Any = None,
):
    def decorator(fn: Callable) -> Tool:
        return Tool(
            func=fn,
            name=name or fn.__name__,
            description=description or (fn.__doc__ or "").strip() or fn.__name__,
            input_schema=_schema_of(fn, schema),
            requires_approval=requires_approval,
            requires_platform_context="platform_context" in fn.__code__.co_varnames,
        )

    return decorator(func) if func is not None else decorator


def create_tool(
    func: Callable, description=None, name=None, requires_approval=False, schema=None
) -> Tool:
    return tool(
        description=description, name=name, requires_approval=requires_approval, schema=schema
    )(func)
