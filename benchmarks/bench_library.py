"""`dcaf session ls` on a folder of 200 sessions, next to reading each file whole.

`ls` (and `-c`, `--resume`, `/sessions`) reads only the two ends of each file: the format
number at the top, `meta` and the last turn at the bottom. The baseline reads and parses
every file whole, as `dcaf session show` does, which is what a listing would cost
without the shortcut. Two folders: small sessions (a few turns, ~3 KB), where the two
cost about the same (the listing also checks each file's lock: a row to read, not a
target), and long conversations (~220 KB each, 44 MB in all), where the listing must not
pay for the histories.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from benchmarks import Row, best_of
from dcaf_cli.store import history
from dcaf_cli.store.filestore import SessionStore, read_session_file
from dcaf_cli.store.library import SessionLibrary

FILES = 200


def _session_file(path: Path, turns: int, value_size: int) -> None:
    from dcaf_cli.session.recorder import Recorder

    with SessionStore(path) as store:
        doc = store.open()
        doc.meta.update(agent="shop", model="offline")
        session = doc.live_session()
        for i in range(turns):
            with Recorder(session) as recorder:
                session.set(f"note{i}", "x" * value_size)
            changes = recorder.changes
            history.record_turn(doc, input=f"turn {i}", changes=changes, tool_calls=[], reply="ok")
        store.save(doc)


def _folder(root: Path, name: str, turns: int, value_size: int) -> Path:
    folder = root / name
    folder.mkdir()
    _session_file(folder / "template.json", turns, value_size)
    data = (folder / "template.json").read_bytes()
    for i in range(FILES - 1):
        (folder / f"s{i:03}.json").write_bytes(data)
    return folder


def _read_all(folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        read_session_file(path)


def bench_ls() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, turns, size, max_ratio in (
            ("small", 3, 100, None),
            ("long", 50, 2_000, 0.25),
        ):
            folder = _folder(Path(tmp), label, turns, size)
            library = SessionLibrary(folder)
            assert len(library.scan().sessions) == FILES
            listed, _ = best_of(library.scan)
            whole, _ = best_of(functools.partial(_read_all, folder))
            kb = (folder / "template.json").stat().st_size / 1000
            rows.append(
                Row(f"session ls, {FILES} {label} sessions ({kb:.0f} KB each)", listed, "s",
                    whole, "read every file whole", max_ratio=max_ratio)
            )  # fmt: skip
    return rows
