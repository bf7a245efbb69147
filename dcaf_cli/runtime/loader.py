"""Load an agent from a spec: `path/to/file.py[:name]` or `package.module[:name]`.

The object found may be an `Agent`, a custom agent function `(messages, context[,
session])`, a DCAF v1 agent (an object with `invoke(messages)`), a tool, or a list of
tools. With no `:name`, the module's `agent` is used if
it has one, else every tool the module defines. Agent files written for the DCAF framework
(`from dcaf.core import Session`, `from dcaf.tools import tool`, ...) load unchanged: when
the real `dcaf` package is missing, those imports are served by dcaf_cli; when it is
installed, its Agent and Tool objects are read into dcaf_cli's (see `compat`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from dcaf_cli.errors import AgentLoadError
from dcaf_cli.runtime.agent import Agent, AgentLike, FunctionAgent
from dcaf_cli.session.text import exception_line
from dcaf_cli.tools.tool import Tool

DEFAULT_AGENT = "dcaf_cli.examples.notes"
SHORT_NAMES = {name: f"dcaf_cli.examples.{name}" for name in ("notes", "shop", "deploy", "counter")}


def load_agent(spec: str) -> AgentLike:
    """The agent a spec names, or AgentLoadError with one line naming the spec."""
    from dcaf_cli.runtime.compat import install as install_compat
    from dcaf_cli.runtime.compat import served
    from dcaf_cli.runtime.compat.real import servers_held

    install_compat()
    served.clear()
    target, _, attr = spec.partition(":")
    target = SHORT_NAMES.get(target, target)
    with servers_held():  # a file's module-level `serve(agent)` must not start a server
        module = _import(target, spec)
    if attr:
        if not hasattr(module, attr):
            raise AgentLoadError(f"agent {spec!r}: {target} has no {attr!r}")
        return _as_agent(getattr(module, attr), spec, attr)
    if hasattr(module, "agent"):
        return _as_agent(module.agent, spec, "agent")
    if served:  # the file called DCAF's `serve(my_agent)`
        return _as_agent(served.pop(), spec, "the served agent")
    tools = [_as_tool(v) for v in vars(module).values() if _is_tool(v)]
    if not tools:
        raise AgentLoadError(
            f"agent {spec!r} defines no agent and no tools",
            hint="define `agent = Agent(tools=[...])` or decorate functions with @tool",
        )
    return Agent(tools=tools, name=_short(target))


def _short(target: str) -> str:
    return Path(target).stem if target.endswith(".py") else target.rsplit(".", 1)[-1]


def _import(target: str, spec: str) -> ModuleType:
    try:
        if target.endswith(".py") or "/" in target or "\\" in target:
            return _import_file(Path(target), spec)
        return importlib.import_module(target)
    except AgentLoadError:
        raise
    except ModuleNotFoundError as exc:
        # The spec itself (or a package on its path) is missing, not something it imports.
        if exc.name and (target == exc.name or target.startswith(exc.name + ".")):
            raise AgentLoadError(
                f"agent {spec!r}: no module named {exc.name!r}", hint=_agent_hint(target)
            ) from None
        raise AgentLoadError(f"agent {spec!r} failed to import: {exc}") from exc
    except SyntaxError as exc:
        raise AgentLoadError(
            f"agent {spec!r} has a syntax error at {exc.filename}:{exc.lineno}: {exc.msg}"
        ) from exc
    except Exception as exc:
        # One line, whatever the exception's message holds.
        raise AgentLoadError(f"agent {spec!r} failed to import: {exception_line(exc)}") from exc


def _agent_hint(target: str) -> str:
    """What to give instead: a near built-in name first, then the kinds of spec."""
    import difflib

    near = difflib.get_close_matches(target, list(SHORT_NAMES), n=1, cutoff=0.6)
    guess = f"did you mean {near[0]}? " if near else ""
    builtins = ", ".join(SHORT_NAMES)
    return f"{guess}built-ins: {builtins}; or a file path (agents/shop.py) or an importable module"


def _import_file(path: Path, spec: str) -> ModuleType:
    if not path.is_file():
        raise AgentLoadError(f"agent {spec!r}: no such file {path}")
    name = f"dcaf_agent_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise AgentLoadError(f"agent {spec!r}: cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    # The file's own folder is importable, as when it is run with `python file.py`.
    sys.path.insert(0, str(path.resolve().parent))
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def _is_tool(obj: object) -> bool:
    from dcaf_cli.runtime.compat.real import is_real_tool

    return isinstance(obj, Tool) or is_real_tool(obj)


def _as_tool(obj: Any) -> Tool[..., Any]:
    from dcaf_cli.runtime.compat.real import read_tool

    return obj if isinstance(obj, Tool) else read_tool(obj)


def _as_agent(obj: Any, spec: str, attr: str) -> AgentLike:
    from dcaf_cli.runtime.compat.real import is_real_agent, read_agent
    from dcaf_cli.runtime.compat.v1 import V1Agent, is_v1_agent

    if isinstance(obj, Agent | FunctionAgent):
        return obj
    if is_real_agent(obj):
        return read_agent(obj)  # type: ignore[no-any-return]
    if _is_tool(obj):
        return Agent(tools=[_as_tool(obj)], name=obj.name)
    if isinstance(obj, list | tuple) and obj and all(_is_tool(t) for t in obj):
        return Agent(tools=[_as_tool(t) for t in obj], name=attr)
    if is_v1_agent(obj) and not isinstance(obj, AgentLike):
        return V1Agent(obj)
    if callable(obj) and not inspect.isclass(obj):
        params = [
            p
            for p in inspect.signature(obj).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(params) in (2, 3):
            return FunctionAgent(obj)
    if isinstance(obj, AgentLike):
        return obj
    raise AgentLoadError(
        f"agent {spec!r}: {attr} is a {type(obj).__name__}, not an agent",
        hint="use an Agent, a function (messages, context[, session]), a tool or a list of tools",
    )
