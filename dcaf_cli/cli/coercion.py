"""Plain command-line values converted without pydantic, so commands start fast.

Typer 0.2x converts every parameter's value with a pydantic `TypeAdapter` it builds as the
command runs: importing pydantic and building a path adapter is about a quarter of what
`dcaf session show` costs. dcaf's parameters are plain (text, whole numbers, in a range or
not, paths without checks, choices, repeated text), so `install` gives those a converter of
its own and leaves any other to Typer. It uses Typer's internals (`_TyperParameter._runtime_param`,
`typer._coercion.RuntimeParam`); with a Typer that lacks them, nothing changes but speed.
"""

from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer.models import ArgumentInfo, OptionInfo, ParameterInfo

# What Typer's path checks default to; `dir_okay=False` is checked here too.
_PLAIN_PATH = {
    "exists": False,
    "file_okay": True,
    "writable": False,
    "readable": True,
    "resolve_path": False,
    "allow_dash": False,
    "path_type": None,
}


def install(command: Any, help_names: list[str]) -> None:
    """Give the plain parameters of `command` and its subcommands dcaf's converter.

    `help_names` are the help options the commands inherit from the root; Click makes
    each command's help option when it first parses, so it is made here, beforehand.
    """
    runtime_param = _runtime_param_class()
    if runtime_param is None:
        return
    get_help_option = getattr(command, "get_help_option", None)
    if get_help_option is not None:
        get_help_option(typer.Context(command, help_option_names=help_names))
    for param in [*getattr(command, "params", []), getattr(command, "_help_option", None)]:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or not hasattr(param, "_runtime_param"):
            continue
        convert = _converter(descriptor.annotation, descriptor.parameter_info)
        if convert is not None and descriptor.file_annotation is None:
            param._runtime_param = runtime_param(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                convert=convert,
            )
    for sub in getattr(command, "commands", {}).values():
        install(sub, help_names)


def _converter(annotation: Any, info: ParameterInfo) -> Any:
    """A function from the command-line text to the value, or None to leave it to Typer."""
    if not isinstance(info, ArgumentInfo | OptionInfo) or info.parser is not None:
        return None
    if info.min is not None or info.max is not None:
        return _bounded(info.min, info.max) if annotation is int and not info.clamp else None
    if annotation is str:
        return str
    if annotation is bool:
        return _flag
    if annotation is int:
        return _whole_number
    if annotation is Path and all(getattr(info, k) == v for k, v in _PLAIN_PATH.items()):
        return Path if info.dir_okay else _file_path
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(annotation)
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        return lambda values: [str(v) for v in values]
    return None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on", "y", "t"}:
        return True
    if text in {"0", "false", "no", "off", "n", "f"}:
        return False
    raise ValueError(f"{value!r} is not true or false")


def _file_path(value: Any) -> Path:
    path = Path(value)
    if path.is_dir():
        raise ValueError(f"file {str(value)!r} is a directory.")
    return path


def _whole_number(value: Any) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def _bounded(low: float | None, high: float | None) -> Any:
    """A whole number within `low`..`high`, said as Click says a range (`x>=1`)."""
    span = (
        f"{low}<=x<={high}"
        if None not in (low, high)
        else f"x>={low}"
        if high is None
        else f"x<={high}"
    )

    def convert(value: Any) -> int:
        number = _whole_number(value)
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"{number} is not in the range {span}")
        return number

    return convert


def _choice(enum: type[Enum]) -> Any:
    def convert(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        for member in enum:
            if member.value == value:
                return member
        choices = ", ".join(repr(m.value) for m in enum)
        raise ValueError(f"{value!r} is not one of {choices}")

    return convert


@cache
def _runtime_param_class() -> Any:
    try:
        from typer._coercion import RuntimeParam
    except ImportError:
        return None

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        convert: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return self.convert(value)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), ctx=ctx, param=param) from None

    return PlainRuntimeParam
