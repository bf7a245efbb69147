"""A server's tools, as the REPL knows local ones: from `GET /api/tools` (`dcaf serve`).

Each listed tool becomes a `Tool` whose signature is rebuilt from its JSON schema (types,
`enum` choices, defaults, descriptions), so completion, `/tools`, `/name args` and the
questions for missing arguments work as they do for a local agent. Its body never runs
here: the server runs its tools. A server without the listing (another HelpDesk server)
gives no tools, and the REPL sends what the user types as it is.
"""

from __future__ import annotations

import inspect
import keyword
from typing import Annotated, Any, Literal

from pydantic import Field

from dcaf_cli.errors import DcafError
from dcaf_cli.tools.tool import Tool

_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list[Any],
    "object": dict[str, Any],
}


def tools_from_listing(listing: Any) -> list[Tool[..., Any]]:
    """The tools of a `GET /api/tools` answer; entries that cannot be rebuilt are left out."""
    entries = listing.get("tools") if isinstance(listing, dict) else None
    found: list[Tool[..., Any]] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            found.append(remote_tool(entry))
        except (DcafError, TypeError, ValueError, AttributeError):
            continue  # an odd schema: that tool is still callable as typed, just not completed
    return found


def remote_tool(entry: dict[str, Any]) -> Tool[..., Any]:
    name = entry["name"]
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"not a tool name: {name!r}")
    schema = entry.get("parameters") or {}
    required = set(schema.get("required", []))
    params, hints = [], {}
    for pname, prop in (schema.get("properties") or {}).items():
        if not pname.isidentifier() or keyword.iskeyword(pname) or pname == "session":
            raise ValueError(f"not a parameter name: {pname!r}")
        hint = _annotation(prop)
        if pname not in required and prop.get("default") is None:
            hint = hint | None
        if isinstance(prop.get("description"), str):
            hint = Annotated[hint, Field(description=prop["description"])]
        default = inspect.Parameter.empty if pname in required else prop.get("default")
        params.append(inspect.Parameter(pname, inspect.Parameter.KEYWORD_ONLY, default=default))
        hints[pname] = hint

    def runs_on_the_server(**arguments: Any) -> Any:
        raise DcafError(f"{name} runs on the server")

    runs_on_the_server.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    runs_on_the_server.__annotations__ = hints
    runs_on_the_server.__doc__ = None
    description = entry.get("description")
    return Tool(
        runs_on_the_server,
        name=name,
        description=description if isinstance(description, str) else None,
        requires_approval=entry.get("requires_approval") is True,
    )


def _annotation(prop: dict[str, Any]) -> Any:
    choices = prop.get("enum")
    if isinstance(choices, list) and choices:
        return Literal[tuple(choices)]
    options = prop.get("anyOf")
    if isinstance(options, list):
        kinds = [_annotation(o) for o in options if o.get("type") != "null"]
        if len(kinds) == 1:
            return kinds[0]
        return Any
    kind = prop.get("type")
    return _TYPES.get(kind, Any) if isinstance(kind, str) else Any
