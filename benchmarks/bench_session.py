"""Session `get`, `set` and `has` next to a plain dict doing the same, in the same run.

A Session does more than a dict, on purpose: `set` checks and converts the value to JSON
and records the key for change tracking; `get` of a container returns a copy (no
aliasing), so `get` is timed twice — on a scalar, and on a small list where the copy is
part of the price. The dict baseline for the list shares the stored list; a second row
compares with `copy.deepcopy`, what a caller would need for the same safety.

The targets are ours (DESIGN.md section 10 sets none for single operations): loose
bounds that catch an accidental O(session size) step or a deep copy on the hot path.
"""

from __future__ import annotations

import copy

from benchmarks import Row, time_statements
from dcaf_cli import Session

SMALL_LIST = [{"item": "Widget", "quantity": 2}, {"item": "Gadget", "quantity": 3}]


def _fixtures() -> dict[str, object]:
    # 1,000 keys around the ones used: a step that scans the session would show.
    data: dict[str, object] = {f"key{i}": {"n": i, "tags": ["a", "b"]} for i in range(1000)}
    data.update(n=42, cart=copy.deepcopy(SMALL_LIST))
    session = Session(data)
    plain = copy.deepcopy(data)
    return {"s": session, "d": plain, "deepcopy": copy.deepcopy, "cart": SMALL_LIST}


def bench_get() -> list[Row]:
    t = time_statements(
        {
            "session.get scalar": "s.get('n')",
            "dict.get scalar": "d.get('n')",
            "session.get list": "s.get('cart')",
            "dict.get list": "d.get('cart')",
            "deepcopy(dict.get list)": "deepcopy(d.get('cart'))",
            "session.get missing": "s.get('nope', 0)",
            "dict.get missing": "d.get('nope', 0)",
        },
        _fixtures(),
    )
    return [
        Row("session.get (scalar)", t["session.get scalar"], "s", t["dict.get scalar"],
            "dict.get", max_ratio=15),
        Row("session.get (missing key)", t["session.get missing"], "s", t["dict.get missing"],
            "dict.get", max_ratio=15),
        Row("session.get (2-item list)", t["session.get list"], "s", t["dict.get list"],
            "dict.get", note="returns a copy; dict.get shares the stored list"),
        Row("session.get (2-item list)", t["session.get list"], "s",
            t["deepcopy(dict.get list)"], "deepcopy(dict.get)", max_ratio=1.0,
            note="the same safety as a dict plus copy.deepcopy"),
    ]  # fmt: skip


def bench_set() -> list[Row]:
    t = time_statements(
        {
            "session.set scalar": "s.set('n', 7)",
            "dict set scalar": "d['n'] = 7",
            "session.set list": "s.set('cart', cart)",
            "dict set list": "d['cart'] = cart",
            "dict set deepcopy list": "d['cart'] = deepcopy(cart)",
        },
        _fixtures(),
    )
    return [
        Row("session.set (scalar)", t["session.set scalar"], "s", t["dict set scalar"],
            "d[k] = v", max_ratio=50, note="checks the value, records the key"),
        Row("session.set (2-item list)", t["session.set list"], "s", t["dict set list"],
            "d[k] = v", note="converts to fresh JSON; the dict stores a reference"),
        Row("session.set (2-item list)", t["session.set list"], "s",
            t["dict set deepcopy list"], "d[k] = deepcopy(v)", max_ratio=1.5,
            note="a dict plus copy.deepcopy: unchecked, but as unshared"),
    ]  # fmt: skip


def bench_has() -> list[Row]:
    t = time_statements(
        {
            "session.has": "s.has('n')",
            "in session": "'n' in s",
            "in dict": "'n' in d",
        },
        _fixtures(),
    )
    return [
        Row("session.has", t["session.has"], "s", t["in dict"], "k in dict", max_ratio=10),
        Row("k in session", t["in session"], "s", t["in dict"], "k in dict", max_ratio=10),
    ]
