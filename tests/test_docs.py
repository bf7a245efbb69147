"""Every command shown in README.md, CONTRIBUTING.md and docs/ runs as shown (`make docs-check`).

A ```console block is a terminal session: each line starting with `$ ` is a command for
bash, run in one temporary folder per document, block after block as a reader types them
(a test for a later block first runs the blocks before it). The folder holds a copy of
`sessions/`, and every ```python or ```yaml block whose first line is a comment naming a
relative path (`# agents/notes.py`), or ```json block fenced as ```json file=PATH, written
to that path. The venv's bin folder comes first on PATH and `DCAF_HOME` points inside.

A command must exit 0, or N when the line ends with `# exit N`; print no traceback; and
write no `dcaf: error` line to stderr unless it is expected to fail, in which case each
`dcaf: error` line the block shows under it must be one it printed (`…` stands for any
text: a pid, a temporary path). A command ending in
` &` runs in the background until the document's last block has run, as a server a
reader starts keeps running while they read on; one with `--port P` (`dcaf serve ...
--port P &`) is given a free port instead of P, which then stands for P in every later
command of the document and in the errors shown under it (so runs side by side never
share a port), and is waited for until `GET /health` answers there. Lines that use jq,
curl or timeout are skipped where it is not installed. The blocks of one document form
one xdist group, so `pytest -n` runs a document in one worker.

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
COMMAND_TIMEOUT = 60.0
SERVER_DEADLINE = 60.0
OPTIONAL_PROGRAMS = ("jq", "curl", "timeout")
FILE_COMMENT = re.compile(r"^#\s*([\w.-]+(?:/[\w.-]+)*\.\w+)\s*$")
FILE_INFO = re.compile(r"\bfile=(\S+)")
EXPECTED_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
PORT = re.compile(r"--port\s+(\d+)")
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Command:
    line: int
    text: str
    shown: list[str] = field(default_factory=list)  # the output the docs show under it

    @property
    def expected_exit(self) -> int:
        match = EXPECTED_EXIT.search(self.text)
        return int(match[1]) if match else 0


@dataclass
class Block:
    doc: Path
    line: int
    commands: list[Command]

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:L{self.line}"


@dataclass
class Document:
    blocks: list[Block]
    files: dict[str, str]


def parse(doc: Path) -> Document:
    """The console blocks of a Markdown file, and the files its other blocks define."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    files: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        info = lines[i][3:].strip()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = lines[i + 1 : end]
        lang = info.split(" ")[0]
        named = FILE_COMMENT.match(body[0]) if body and lang in ("python", "yaml") else None
        named = named or (FILE_INFO.search(info) if lang == "json" else None)
        if named:
            files[named[1]] = "\n".join(body) + "\n"
        elif lang == "console":
            commands: list[Command] = []
            for n, text in enumerate(body, start=i + 2):
                if text.startswith("$ "):
                    commands.append(Command(n, text[2:].strip()))
                elif commands:
                    commands[-1].shown.append(text)
            blocks.append(Block(doc, i + 1, commands))
        i = end + 1
    return Document(blocks, files)


def environment(folder: Path) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DCAF_", "AWS_", "OPENAI_", "ANTHROPIC_", "OLLAMA_"))
    }
    keep.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(folder / ".home"),
        DCAF_HOME=str(folder / ".dcaf"),
        COLUMNS="100",
        NO_COLOR="1",
        TERM="dumb",
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
        self.parsed = parse(doc)
        self.folder = folder
        self.env = environment(folder)
        self.ran: dict[int, str | None] = {}  # block line -> why it failed, or None
        self.background: list[subprocess.Popen[bytes]] = []
        self.ports: dict[str, str] = {}  # a documented port -> the free one used instead
        shutil.copytree(ROOT / "sessions", folder / "sessions")
        (folder / ".home").mkdir()
        for name, text in self.parsed.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")

    def run_up_to(self, block: Block) -> None:
        for earlier in self.parsed.blocks:
            if earlier.line == block.line:
                break
            if earlier.line not in self.ran:
                self.run(earlier)
            if self.ran[earlier.line] is not None:
                pytest.fail(f"an earlier block failed: {self.ran[earlier.line]}")

    def run(self, block: Block) -> None:
        self.ran[block.line] = "it did not finish"
        try:
            for command in block.commands:
                if _missing_program(command.text) is not None:
                    continue
                if command.text.endswith("&"):
                    self.background.append(self._start(command))
                else:
                    self._check(command)
        except BaseException as exc:
            self.ran[block.line] = f"{block.id}: {exc}"
            raise
        self.ran[block.line] = None

    def close(self) -> None:
        for process in self.background:
            _stop(process)

    def local(self, text: str) -> str:
        """`text` with each documented server port replaced by the one used here."""
        if not self.ports:
            return text
        documented = re.compile(rf"(?<!\d)(?:{'|'.join(self.ports)})(?!\d)")
        return documented.sub(lambda match: self.ports[match[0]], text)

    def _start(self, command: Command) -> subprocess.Popen[bytes]:
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
        pytest.fail(f"L{command.line}: three free ports in a row were taken before use")

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

    def _check(self, command: Command) -> None:
        text = self.local(command.text)
        try:
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", text],
                check=False,
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"L{command.line}: `{text}` took over {COMMAND_TIMEOUT:g} s")
        where = f"L{command.line}: `{text}`"
        output = f"\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        assert done.returncode == command.expected_exit, f"{where} exited {done.returncode}{output}"
        assert TRACEBACK not in done.stdout + done.stderr, f"{where} printed a traceback{output}"
        errors = [line for line in done.stderr.splitlines() if line.startswith("dcaf: error")]
        if command.expected_exit == 0:
            assert not errors, f"{where} reported an error{output}"
        for shown in map(self.local, command.shown):
            if shown.startswith("dcaf: error"):
                pattern = re.compile(".*".join(re.escape(part) for part in shown.split("…")))
                printed = any(pattern.fullmatch(line) for line in errors)
                assert printed, f"{where} no longer prints {shown!r}{output}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


BLOCKS = [block for doc in DOCS for block in parse(doc).blocks]


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Path, Workspace]]:
    made = {
        doc: Workspace(doc, tmp_path_factory.mktemp(doc.stem.lower().replace("-", "_")))
        for doc in DOCS
    }
    yield made
    for workspace in made.values():
        workspace.close()


def test_the_docs_show_commands() -> None:
    assert len(BLOCKS) >= 10
    assert {block.doc.name for block in BLOCKS} >= {"README.md", "tools.md", "protocol.md"}


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(block, id=block.id, marks=pytest.mark.xdist_group(block.doc.stem))
        for block in BLOCKS
    ],
)
def test_console_block(block: Block, workspaces: dict[Path, Workspace]) -> None:
    workspace = workspaces[block.doc]
    workspace.run_up_to(block)
    workspace.run(block)


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
