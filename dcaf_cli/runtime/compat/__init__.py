"""DCAF agent files, run unchanged.

Without the real `dcaf` package, dcaf-cli serves DCAF's imports itself (`dcaf`,
`dcaf.core`, `dcaf.tools`, `dcaf.core.interceptors`, `dcaf.agent_server`,
`dcaf.schemas.messages`, ...): see `names` for the table. With `dcaf` installed, its own
objects load and are read into dcaf-cli's (`real`). Either way, loading a file never
starts a server: `serve(agent)` and `create_app(agent)` only note the agent (`served`).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from dcaf_cli.runtime.compat.names import missing, tables
from dcaf_cli.runtime.compat.served import serve, served

__all__ = ["agent_notes", "install", "is_stand_in", "serve", "served"]

DOC = "dcaf-cli's stand-in for the DCAF framework"


def is_stand_in() -> bool:
    module = sys.modules.get("dcaf")
    return module is not None and getattr(module, "__doc__", None) == DOC


def real_dcaf_installed() -> bool:
    """Whether `import dcaf` loads the real package (asked of every finder but ours,
    which would answer by making the stand-ins)."""
    if is_stand_in():
        return False
    if "dcaf" in sys.modules:
        return True
    finders = [f for f in sys.meta_path if not isinstance(f, _StandIns)]
    return any(f.find_spec("dcaf", None) is not None for f in finders if hasattr(f, "find_spec"))


def install() -> None:
    """Serve DCAF's imports, unless the real `dcaf` is importable now (decided here, before
    a file's folder is on the path: a `dcaf` beside the file, or the file itself, does not
    take DCAF's place). The stand-in modules are made when a file first imports one: an
    agent that never imports `dcaf` does not pay for them (their message models take some
    10 ms to build). Once made, they stay."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _StandIns)]
    if is_stand_in() or not real_dcaf_installed():
        sys.meta_path.insert(0, _StandIns())  # before the path: ahead of any other `dcaf`


def _register(name: str, attrs: dict[str, Any]) -> ModuleType:
    module = ModuleType(name, DOC)
    module.__path__ = []
    module.__dict__.update(attrs)
    module.__getattr__ = missing(name)  # type: ignore[method-assign]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


class _StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`dcaf` and every `dcaf.*` module, when `install` found no real one: on the first
    `import dcaf...`, every module of the table (see `names`); any other `dcaf.*` module
    importable, but each name in it fails with one line."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "dcaf":
            for name, attrs in tables().items():
                _register(name, attrs)
        elif not fullname.startswith("dcaf.") or not is_stand_in():
            return None  # not DCAF's, or a module a real `dcaf` does not have
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        made = sys.modules.get(spec.name)
        return made if made is not None else _register(spec.name, {})

    def exec_module(self, module: ModuleType) -> None:
        return None


def agent_notes(agent: object, spec: str) -> list[str]:
    """What a DCAF agent was given that has no effect here: one line, said once, when the
    command loads it (empty for every other agent)."""
    found: list[str] = getattr(agent, "notes", None) or []
    if not found:
        return []
    return [f"{spec}: Agent({', '.join(found)}) has no effect in dcaf-cli"]
