"""Every command shown in README.md, CONTRIBUTING.md and docs/ runs as shown (`make docs-check`).

A ```console block is a terminal session: each line starting with `$ ` is a command for
bash, run in one temporary folder per document, block after block as a reader types
them. The folder holds a copy of `sessions/`, and every ```python or ```yaml block whose
first line is a comment naming a relative path (`# agents/notes.py`), or ```json block
fenced as ```json file=PATH, written to that path. The venv's bin folder comes first on
PATH; HOME is a folder of its own, which the output reads as `/home/you` (so dcaf's data
folder is `/home/you/.local/share/dcaf`).
Commands run with no colour and no terminal, and without COLUMNS, so their width is fixed:
dcaf does not wrap what goes to a pipe, other programs take 80 columns.

A command must exit 0, or N when the line ends with `# exit N`; print no traceback, and no
`dcaf: error` line unless it is expected to fail; and print what the lines under it show,
stdout and stderr as a terminal interleaves them, compared by the rules of docs_helpers
(`…` in a line is any text, a line `...` any lines; times, durations, signatures, hashes,
pids and sizes normalised). A block after `<!-- docs-test: skip-output -->` is run but its
output is not compared; `SKIPPED_OUTPUTS` pins how many commands that leaves out.

A command ending in ` &` runs in the background until the document's last block has run,
as a server a reader starts keeps running while they read on; it shows no output. One with
`--port P` (`dcaf serve ... --port P &`) is given a free port instead of P, which then
stands for P in every later command of the document and in the output shown under it (so
runs side by side never share a port), and is waited for until `GET /health` answers
there. Lines that use jq, curl or timeout are skipped where it is not installed. The
blocks of one document are one test, so `pytest -n` runs a document in one worker.

Output shown in blocks that are not run (an indented `dcaf: error: ...` line) is checked
to be the program's wording: each run of plain words in it is text the program holds.

Also: docs/turn.svg is what `python docs/picture.py` draws now (`make picture`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from docs_helpers import Block, Command, difference, parse, program_text, unknown_wording
from fakes.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
COMMAND_TIMEOUT = 60.0
SERVER_DEADLINE = 60.0
OPTIONAL_PROGRAMS = ("jq", "curl", "timeout")
PORT = re.compile(r"--port\s+(\d+)")
TRACEBACK = "Traceback (most recent call last)"
HOME = "/home/you"  # the home folder, as the docs show it
# Commands whose output the docs do not compare (<!-- docs-test: skip-output -->).
SKIPPED_OUTPUTS = 1


def environment(folder: Path) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DCAF_", "AWS_", "OPENAI_", "ANTHROPIC_", "OLLAMA_", "XDG_"))
        and k not in ("COLUMNS", "LINES")
    }
    keep.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(folder / ".home"),
        NO_COLOR="1",
        TERM="dumb",
        PYTHONUNBUFFERED="1",  # stdout and stderr interleaved as on a terminal
    )
    return keep


def _missing_program(command: str) -> str | None:
    words = set(re.findall(r"[\w-]+", command))
    return next((p for p in OPTIONAL_PROGRAMS if p in words and not shutil.which(p)), None)


def _serving(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """Wait until the server answers `GET /health`; False if the port was taken meanwhile."""
    deadline = time.monotonic() + SERVER_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "in use" in log.read_text(errors="replace"):
                return False  # another program took the free port first: try another one
            pytest.fail(f"the server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                if process.poll() is None:  # ours answered, not a program that took the port
                    return True
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server on port {port} did not answer within {SERVER_DEADLINE:g} s")


class Workspace:
    """One document's folder, where its blocks run in order."""

    def __init__(self, doc: Path, folder: Path) -> None:
        self.parsed = parse(doc, ROOT)
        self.folder = folder
        self.env = environment(folder)
        self.differences: list[str] = []  # each command's output that is not as shown
        self.background: list[subprocess.Popen[bytes]] = []
        self.ports: dict[str, str] = {}  # a documented port -> the free one used instead
        shutil.copytree(ROOT / "sessions", folder / "sessions")
        (folder / ".home").mkdir()
        for name, text in self.parsed.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")

    def run(self, block: Block) -> None:
        for command in block.commands:
            if _missing_program(command.text) is not None:
                continue
            where = f"{block.id}, L{command.line}"
            if command.background:
                assert not command.shown, f"{where}: a command run in the background shows output"
                self.background.append(self._start(command, where))
            else:
                self._check(command, where)

    def close(self) -> None:
        for process in self.background:
            _stop(process)

    def local(self, text: str) -> str:
        """`text` with each documented server port replaced by the one used here."""
        if not self.ports:
            return text
        documented = re.compile(rf"(?<!\d)(?:{'|'.join(self.ports)})(?!\d)")
        return documented.sub(lambda match: self.ports[match[0]], text)

    def _start(self, command: Command, where: str) -> subprocess.Popen[bytes]:
        text = command.text[:-1].strip()
        port = PORT.search(text)
        log = self.folder / f".background-L{command.line}.log"
        if port is None:
            return self._spawn(self.local(text), log)
        for _ in range(3):
            self.ports[port[1]] = str(free_port())
            process = self._spawn(self.local(text), log)
            try:
                if _serving(process, int(self.ports[port[1]]), log):
                    return process
            except BaseException:
                _stop(process)
                raise
        pytest.fail(f"{where}: three free ports in a row were taken before use")

    def _spawn(self, text: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                ["bash", "-c", text],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, stopped as one at the block's end
            )

    def _check(self, command: Command, where: str) -> None:
        text = self.local(command.text)
        try:
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", text],
                check=False,
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{where}: `{text}` took over {COMMAND_TIMEOUT:g} s")
        printed = done.stdout.replace(str(self.folder / ".home"), HOME)
        where = f"{where}: `{text}`"
        output = f"\n--- printed\n{printed[-3000:]}"
        assert done.returncode == command.expected_exit, f"{where} exited {done.returncode}{output}"
        assert TRACEBACK not in printed, f"{where} printed a traceback{output}"
        if command.expected_exit == 0:
            assert "\ndcaf: error" not in f"\n{printed}", f"{where} reported an error{output}"
        if command.compared:
            diff = difference([self.local(line) for line in command.shown], printed)
            if diff is not None:  # the commands after it still run as shown: go on
                self.differences.append(f"{where} printed other output than shown:\n{diff}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


BLOCKS = [block for doc in DOCS for block in parse(doc, ROOT).blocks]


def test_the_docs_show_commands() -> None:
    assert len(BLOCKS) >= 10
    assert {block.doc.name for block in BLOCKS} >= {"README.md", "tools.md", "protocol.md"}


def test_the_output_of_every_command_is_compared_but_the_marked_ones() -> None:
    commands = [(block, c) for block in BLOCKS for c in block.commands if not c.background]
    skipped = [f"{block.doc.name}:L{c.line}" for block, c in commands if not c.compared]
    assert len(skipped) == SKIPPED_OUTPUTS, (
        f"{len(skipped)} commands are marked skip-output, not {SKIPPED_OUTPUTS}: {skipped}"
    )
    assert len(commands) - len(skipped) >= 100, "the docs compare fewer outputs than before"


def test_the_comparison_lets_only_what_varies_vary() -> None:
    shown = [
        "▸ add_to_cart(quantity=2)  160 µs",
        "...",
        "saved /home/you/.local/share/dcaf/sessions/shop-20261201-093005.json (revision 1)",
        'pid 48213, … {"duration_ms": 0.301}',
    ]
    printed = (
        "▸ add_to_cart(quantity=2)  12.5 ms  \n  ↳ one\n  ↳ two\n"
        "saved /home/you/.local/share/dcaf/sessions/shop-20270101-000000.json (revision 1)\n"
        'pid 7, held by `dcaf run` {"duration_ms": 1.5e-05}\n\n'
    )
    assert difference(shown, printed) is None
    assert difference(shown, printed.replace("revision 1", "revision 2")) is not None
    assert difference(shown, printed.replace("quantity=2", "quantity=3")) is not None
    assert difference(shown[:1], printed) is not None  # more lines than shown, not elided
    assert difference([], "") is None
    assert difference([], "a note\n") is not None  # shows nothing: prints nothing


def test_example_output_that_is_not_run_is_the_programs_wording() -> None:
    """An error shown but not run (it needs a full disk, another writer) reads as dcaf's."""
    known = program_text(ROOT / "dcaf_cli")
    checked = 0
    for doc in DOCS:
        count, unknown = unknown_wording(parse(doc, ROOT).examples, known)
        assert not unknown, f"{doc.name} shows wording dcaf does not use: {unknown}"
        checked += count
    assert checked >= 5


@pytest.mark.parametrize("doc", DOCS, ids=[str(doc.relative_to(ROOT)) for doc in DOCS])
def test_console_blocks(doc: Path, tmp_path: Path) -> None:
    """A document's blocks, in order, in one folder: one test, so one xdist worker."""
    workspace = Workspace(doc, tmp_path / "doc")
    try:
        for block in workspace.parsed.blocks:
            workspace.run(block)
    finally:
        workspace.close()
    if workspace.differences:
        pytest.fail("\n\n".join(workspace.differences), pytrace=False)


LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)")


def _anchors(doc: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    text = re.sub(r"^```.*?^```", "", doc.read_text(encoding="utf-8"), flags=re.M | re.S)
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("doc", DOCS, ids=[str(doc.relative_to(ROOT)) for doc in DOCS])
def test_links_lead_somewhere(doc: Path) -> None:
    for target, anchor in LINK.findall(doc.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://")):
            continue
        path = (doc.parent / target).resolve() if target else doc
        assert path.exists(), f"{doc.name} links to {target}, which does not exist"
        if anchor:
            assert anchor in _anchors(path), f"{doc.name} links to a missing #{anchor}"


def test_picture_is_current(tmp_path: Path) -> None:
    drawn = tmp_path / "turn.svg"
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    subprocess.run(
        [sys.executable, "docs/picture.py", str(drawn)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    current = (ROOT / "docs" / "turn.svg").read_text(encoding="utf-8")
    assert drawn.read_text(encoding="utf-8") == current, "docs/turn.svg is stale: `make picture`"
