"""What changed in a session: human-readable changes and RFC 6902 JSON Patch documents.

One structural walk yields `Change`s (added / removed / changed at a path); the forward
patch and its inverse (the undo patch) are both derived from those changes, so what the
terminal shows and what the file records always agree.

Only the keys a turn touched are walked (see `Session.transaction`), so the cost follows
the size of the change, not of the session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dcaf_cli.session.jsonvalue import JSON, Path, copy_json, same
from dcaf_cli.session.keypath import format_key_path
from dcaf_cli.session.session import MISSING, _Missing

Kind = Literal["added", "removed", "changed"]
PatchOp = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    kind: Kind
    path: Path
    old: JSON | None = None
    new: JSON | None = None

    @property
    def where(self) -> str:
        return format_key_path(self.path)


__all__ = [
    "Change",
    "apply_patch",
    "diff_sessions",
    "diff_values",
    "from_patch",
    "parse_pointer",
    "pointer",
    "same",
    "to_patch",
    "to_undo",
]


def diff_values(old: JSON | _Missing, new: JSON | _Missing, path: Path) -> list[Change]:
    """The changes that turn `old` into `new` (either may be MISSING) at `path`.

    Depth first, in order; a loop over a stack of what is still to compare (or a change
    already found, kept in its place), not recursion: any depth diffs.
    """
    out: list[Change] = []
    stack: list[tuple[JSON | _Missing, JSON | _Missing, Path] | Change] = [(old, new, path)]
    while stack:
        task = stack.pop()
        if isinstance(task, Change):
            out.append(task)
        else:
            stack += reversed(_step(*task))
    return out


_Step = list[tuple[JSON | _Missing, JSON | _Missing, Path] | Change]


def _step(old: JSON | _Missing, new: JSON | _Missing, path: Path) -> _Step:
    """One level of the diff: the changes found here, and the pairs to compare below."""
    if isinstance(old, _Missing):
        return [] if isinstance(new, _Missing) else [Change("added", path, new=new)]
    if isinstance(new, _Missing):
        return [Change("removed", path, old=old)]
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dicts(old, new, path)
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    return [] if same(old, new) else [Change("changed", path, old=old, new=new)]


def _diff_dicts(old: dict[str, JSON], new: dict[str, JSON], path: Path) -> _Step:
    out: _Step = [(value, new.get(key, MISSING), (*path, key)) for key, value in old.items()]
    for key, value in new.items():
        if key not in old:
            out.append(Change("added", (*path, key), new=value))
    return out


def _diff_lists(old: list[JSON], new: list[JSON], path: Path) -> _Step:
    if len(old) == len(new):  # item by item: what trimming would give, without its cost
        return [(a, b, (*path, i)) for i, (a, b) in enumerate(zip(old, new, strict=True))]
    # Trim the common head and tail, so one insertion or removal is one change.
    start = 0
    while start < min(len(old), len(new)) and same(old[start], new[start]):
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and same(old[end_old - 1], new[end_new - 1]):
        end_old -= 1
        end_new -= 1
    common = min(end_old - start, end_new - start)
    out: _Step = [(old[i], new[i], (*path, i)) for i in range(start, start + common)]
    # Removals run from the highest index down, so each index is valid when applied.
    for i in range(end_old - 1, start + common - 1, -1):
        out.append(Change("removed", (*path, i), old=old[i]))
    for i in range(start + common, end_new):
        out.append(Change("added", (*path, i), new=new[i]))
    return out


def diff_sessions(
    before: Mapping[str, JSON | _Missing], after: Mapping[str, JSON | _Missing]
) -> list[Change]:
    """Changes between two mappings of key -> value (MISSING for absent keys)."""
    out: list[Change] = []
    for key in dict.fromkeys([*before, *after]):
        out += diff_values(before.get(key, MISSING), after.get(key, MISSING), (key,))
    return out


def pointer(path: Path) -> str:
    """An RFC 6901 JSON Pointer for `path`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def to_patch(changes: Iterable[Change]) -> list[PatchOp]:
    """The RFC 6902 patch that applies `changes`."""
    ops: list[PatchOp] = []
    for c in changes:
        if c.kind == "added":
            ops.append({"op": "add", "path": pointer(c.path), "value": c.new})
        elif c.kind == "removed":
            ops.append({"op": "remove", "path": pointer(c.path)})
        else:
            ops.append({"op": "replace", "path": pointer(c.path), "value": c.new})
    return ops


def to_undo(changes: Iterable[Change]) -> list[PatchOp]:
    """The RFC 6902 patch that reverses `changes` (applied after them)."""
    ops: list[PatchOp] = []
    for c in reversed(list(changes)):
        if c.kind == "added":
            ops.append({"op": "remove", "path": pointer(c.path)})
        elif c.kind == "removed":
            ops.append({"op": "add", "path": pointer(c.path), "value": c.old})
        else:
            ops.append({"op": "replace", "path": pointer(c.path), "value": c.old})
    return ops


def from_patch(patch: Iterable[PatchOp], before: Mapping[str, JSON]) -> list[Change]:
    """Changes described by a patch this module wrote, given the document it applies to."""
    doc: JSON = {k: copy_json(v) for k, v in before.items()}
    out: list[Change] = []
    for op in patch:
        path = parse_pointer(op["path"])
        kind = op["op"]
        if kind == "add":
            out.append(Change("added", path, new=op["value"]))
        elif kind == "remove":
            out.append(Change("removed", path, old=_lookup(doc, path)))
        elif kind == "replace":
            out.append(Change("changed", path, old=_lookup(doc, path), new=op["value"]))
        doc = apply_patch(doc, [op])
    return out


def parse_pointer(ptr: str) -> Path:
    if ptr == "":
        return ()
    if not ptr.startswith("/"):
        raise ValueError(f"not a JSON pointer: {ptr!r}")
    parts: list[str | int] = []
    for raw in ptr[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(token) if _is_index(token) else token)
    return tuple(parts)


def _is_index(token: str) -> bool:
    # Only a canonical index ("0", "12") survives `str(int(token))` unchanged; object
    # keys such as "007" or "²" must stay strings.
    return token.isascii() and token.isdigit() and (token == "0" or token[0] != "0")


def _lookup(doc: JSON, path: Path) -> JSON:
    for part in path:
        if isinstance(doc, dict):
            doc = doc[str(part)]
        elif isinstance(doc, list):
            doc = doc[int(part)]
        else:
            raise KeyError(path)
    return doc


def apply_patch(doc: JSON, patch: Iterable[PatchOp]) -> JSON:
    """Apply add / remove / replace operations in place (copy first if you must keep it).

    Only the three operations this module writes are needed to replay and undo turns; a
    patch from elsewhere with `move`/`copy`/`test` raises ValueError.
    """
    for op in patch:
        path = parse_pointer(op["path"])
        if not path:
            if op["op"] in ("add", "replace"):
                doc = copy_json(op["value"])
                continue
            raise ValueError("cannot remove the whole document")
        parent = _lookup(doc, path[:-1])
        if isinstance(parent, dict):
            _apply_to_dict(parent, str(path[-1]), op)
        elif isinstance(parent, list):
            _apply_to_list(parent, path[-1], op)
        else:
            raise KeyError(op["path"])
    return doc


def _apply_to_dict(parent: dict[str, JSON], key: str, op: PatchOp) -> None:
    kind = op["op"]
    if kind in ("add", "replace"):
        if kind == "replace" and key not in parent:
            raise KeyError(op["path"])
        parent[key] = copy_json(op["value"])
    elif kind == "remove":
        del parent[key]
    else:
        raise ValueError(f"unsupported patch operation {kind!r}")


def _apply_to_list(parent: list[JSON], last: str | int, op: PatchOp) -> None:
    kind = op["op"]
    index = len(parent) if last == "-" else int(last)
    if kind == "add":
        parent.insert(index, copy_json(op["value"]))
    elif kind == "replace":
        parent[index] = copy_json(op["value"])
    elif kind == "remove":
        del parent[index]
    else:
        raise ValueError(f"unsupported patch operation {kind!r}")
