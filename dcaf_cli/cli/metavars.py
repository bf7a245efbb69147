"""Help that names values the way Click does: `TEXT`, `PATH`, `[AGENT]`, `FILE KEY VALUE`.

Typer 0.2x (which vendors Click as `typer._click`) labels values by their Python type
(`<str>`, `<bool>`, `<list[str]>`, `<int range>`), shows a type even for flags, and writes
arguments in the usage line as `{file}` (required) and `[agent]` (optional). Users of
Click-based tools read `TEXT`, `INTEGER`, `PATH`, no label for a flag, and `FILE` /
`[AGENT]`. Typer builds its parameter objects itself, with no say in their class, so
`install` gives every parameter of the built command tree Click's labels by moving it to a
subclass that changes only how it is displayed; a Typer whose parameters have no
`type_descriptor` (before 0.2x) already follows Click, and is left as it is.
"""

from typing import Any

from typer.core import TyperArgument, TyperOption

# Click's names for the basic types; any other is its class name in capitals (`UUID`).
_TYPE_NAMES: dict[Any, str] = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}
_DATETIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]  # Click's default
_PATH_NAMES = {"file": "FILE", "dir": "DIRECTORY", "path": "PATH"}


def install(command: Any) -> None:
    """Display every parameter of `command` and its subcommands with Click's labels
    (its help option too, once made: see `coercion.install`)."""
    for param in [*getattr(command, "params", []), getattr(command, "_help_option", None)]:
        if not hasattr(param, "type_descriptor"):
            continue
        if type(param) is TyperArgument:
            param.__class__ = ClickStyleArgument
        elif type(param) is TyperOption:
            param.__class__ = ClickStyleOption
    for sub in getattr(command, "commands", {}).values():
        install(sub)


def type_label(param: Any, ctx: Any) -> str:
    """Click's label for the value of `param`: `TEXT`, `INTEGER RANGE`, `[yes|no]`, ..."""
    desc = param.type_descriptor
    if desc.is_choice:
        choices = param.display_type_typer(ctx)[1:-1].removeprefix("list[").removesuffix("]")
        return f"{{{choices}}}" if isinstance(param, TyperArgument) else f"[{choices}]"
    if desc.is_datetime:
        formats = desc.parameter_info.formats or _DATETIME_FORMATS
        return "[" + "|".join(formats) + "]"
    if desc.is_ranged:
        return f"{_TYPE_NAMES.get(desc.annotation, 'NUMBER')} RANGE"
    if desc.is_path:
        return _PATH_NAMES.get(desc.path_type, "PATH")
    return _annotation_label(desc.annotation)


def _annotation_label(annotation: Any) -> str:
    args = getattr(annotation, "__args__", None)
    if getattr(annotation, "__origin__", None) is list and args:
        return _annotation_label(args[0])
    if getattr(annotation, "__origin__", None) is tuple and args:
        return "<" + " ".join(_annotation_label(a) for a in args) + ">"
    if annotation in _TYPE_NAMES:
        return _TYPE_NAMES[annotation]
    return str(getattr(annotation, "__name__", annotation)).upper()


class ClickStyleArgument(TyperArgument):
    """An argument shown as Click shows it: `FILE`, `[AGENT]`, `ARGS...` in the usage."""

    def display_type_typer(self, ctx: Any) -> str:
        return str(super().display_type(ctx))

    def display_type(self, ctx: Any) -> str:
        return type_label(self, ctx)

    def usage_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        if not self.required:
            name = f"[{name}]"
        return f"{name}..." if self.nargs != 1 else name

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        return [self.usage_name()]

    def get_error_hint(self) -> str:
        return f"'{self.metavar or (self.name or '').upper()}'"


class ClickStyleOption(TyperOption):
    """An option shown as Click shows it: no label for a flag, `TEXT` for text."""

    def display_type_typer(self, ctx: Any) -> str:
        return str(super().display_type(ctx))

    def display_type(self, ctx: Any) -> str:
        return type_label(self, ctx)

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return str(self.metavar)
        label = self.display_type(ctx)
        return f"{label}..." if self.nargs != 1 else label
