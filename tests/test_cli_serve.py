"""`dcaf serve`: its help, its errors, and a real multi-worker server."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.chat_client import chat, decision, isolate, reach_approval
from fakes.live_server import JSON_HEADERS
from fakes.serving import free_port, wait_until_up

from dcaf_cli.cli import run_cli
from dcaf_cli.errors import DcafError, UsageError
from dcaf_cli.server import entry
from dcaf_cli.server.connections import SharedSocketLoop
from dcaf_cli.server.entry import app_from_env, build_agent, shared_ledger
from dcaf_cli.server.ledger import MemoryLedger, SqliteLedger
from dcaf_cli.server.startup import check_port, run_uvicorn

SERVE_ENV = (
    "DCAF_SERVE_AGENT",
    "DCAF_SERVE_MODEL",
    "DCAF_SERVE_MAX_BODY",
    "DCAF_APPROVAL_KEY",
    "DCAF_APPROVAL_LEDGER",
    "DCAF_LEDGER",
    "DCAF_SESSION_SECRET",
)
WORKER_DEPLOY = str(Path(__file__).parent / "fakes" / "server_agents.py") + ":WORKER_DEPLOY"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    for name in SERVE_ENV:  # set, then deleted: restored as absent even if `serve` sets it
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for expected in ("/api/chat-stream", "--workers", "dcaf serve shop", "DCAF_SESSION_SECRET"):
        assert expected in out


def test_missing_server_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in ("fastapi", "uvicorn") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert run_cli(["serve", "shop"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "dcaf: error: dcaf serve needs FastAPI and uvicorn: pip install 'dcaf-cli[server]'\n"
    )


def test_unknown_agent_fails_before_binding(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["serve", "no_such_module_xyz", "--port", "1"]) == 2
    assert "no module named 'no_such_module_xyz'" in capsys.readouterr().err


def test_model_option_needs_an_agent_with_a_model() -> None:
    with pytest.raises(UsageError, match="--model does not apply"):
        build_agent("counter", "offline")


def test_workers_build_the_app_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DCAF_SERVE_AGENT", "deploy")
    monkeypatch.setenv("DCAF_SERVE_MAX_BODY", "1234")
    monkeypatch.setenv("DCAF_APPROVAL_KEY", "ab" * 32)
    service = app_from_env().state.service
    assert service.agent.name == "deploy"
    assert service.max_body_bytes == 1234
    assert service.signer.approval_key == bytes.fromhex("ab" * 32)
    assert not service.signer.signs_sessions
    assert isinstance(service.ledger, MemoryLedger)
    monkeypatch.setenv("DCAF_APPROVAL_LEDGER", str(tmp_path / "ledger.sqlite3"))
    assert isinstance(app_from_env().state.service.ledger, SqliteLedger)


# -- the approval ledger -------------------------------------------------------------------


def test_several_workers_share_a_ledger_in_a_private_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    with shared_ledger(workers=2):
        spec = os.environ["DCAF_LEDGER"]
        assert spec.startswith("sqlite:")
        path = Path(spec.removeprefix("sqlite:"))
        assert path.parent.parent == tmp
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.is_file()  # created before the workers start
    assert "DCAF_LEDGER" not in os.environ
    assert list(tmp.iterdir()) == []
    with shared_ledger(workers=1):  # one worker: its ledger is in memory
        assert "DCAF_LEDGER" not in os.environ


def test_a_ledger_the_user_names_is_used_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = tmp_path / "shared" / "approvals.sqlite3"
    given.parent.mkdir()
    monkeypatch.setenv("DCAF_APPROVAL_LEDGER", str(given))  # the older name still works
    with shared_ledger(workers=4):
        assert os.environ["DCAF_LEDGER"] == str(given)
    assert given.is_file()
    monkeypatch.setenv("DCAF_LEDGER", f"sqlite:{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    with pytest.raises(UsageError, match="cannot open the SQLite file"), shared_ledger(1):
        pass


# -- starting up -------------------------------------------------------------------------


@pytest.fixture
def listening() -> Iterator[int]:
    """A port another server listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_port_in_use_is_one_line_and_exit_2(
    listening: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["serve", "shop", "--port", str(listening)]) == 2
    assert capsys.readouterr().err == (
        f"dcaf: error: port {listening} on 127.0.0.1 is in use; choose another with --port\n"
    )


def test_a_port_left_in_time_wait_is_free() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's is
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = int(server.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server's side closes first: its port goes to TIME_WAIT
        time.sleep(0.05)
        client.close()
    check_port("127.0.0.1", port)  # uvicorn could bind it: so may dcaf


def test_other_bind_problems_are_one_line() -> None:
    with pytest.raises(UsageError, match="not a port number"):
        check_port("127.0.0.1", 70000)
    with pytest.raises(UsageError, match=r"cannot listen on 192\.0\.2\.1 port 8000"):
        check_port("192.0.2.1", 8000)  # TEST-NET-1: no interface has it


def test_uvicorn_failing_to_start_is_one_line_and_exit_1(
    listening: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The port is taken between dcaf's check and uvicorn's bind.
    monkeypatch.setattr(entry, "check_port", lambda host, port: port)
    assert run_cli(["serve", "shop", "--port", str(listening)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("dcaf: serving shop")
    [line] = [line for line in err[1:] if "rror" in line]  # uvicorn's own error line is held
    assert line.startswith("dcaf: error: the server did not start: [Errno 98]")
    assert "address already in use" in line


def test_a_worker_failing_to_start_is_exit_1() -> None:
    log = logging.getLogger("uvicorn.error")

    def supervisor() -> None:  # what uvicorn.run does when a worker cannot start
        log.info("Uvicorn running on http://127.0.0.1:1 (Press CTRL+C to quit)")
        log.error("Child process [7] failed to start, stopping the parent process.")

    with pytest.raises(DcafError, match="a worker failed to start"):
        run_uvicorn(supervisor)
    run_uvicorn(lambda: log.error("Exception in ASGI application"))  # not a failed start
    assert log.filters == []


@pytest.mark.parametrize("workers", [1, 2])
def test_several_workers_run_on_the_loop_that_spreads_connections(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: int
) -> None:
    """What `serve` hands uvicorn (the two-worker server below runs it for real): the
    loop that accepts one connection at a time, for several workers only."""
    import uvicorn

    given: dict[str, Any] = {}
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() exports its settings
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # and the workers' ledger
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: given.update(options))
    entry.serve("counter", entry.ServeOptions(port=free_port(), workers=workers))
    if workers == 1:
        assert "loop" not in given
    else:
        assert given["workers"] == 2
        config = uvicorn.Config(entry.FACTORY, factory=True, loop=given["loop"])
        assert config.get_loop_factory() is SharedSocketLoop


# -- a real server with two workers -------------------------------------------------------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`dcaf serve --workers 2` in a subprocess whose temporary folder is a test one."""
    port, tmp = free_port(), tmp_path_factory.mktemp("serve-tmp")
    env = {k: v for k, v in os.environ.items() if k not in SERVE_ENV and "PROXY" not in k.upper()}
    env["TMPDIR"] = str(tmp)
    command = [sys.executable, "-m", "dcaf_cli", "serve", WORKER_DEPLOY, "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, seconds=90)
        yield url, tmp
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    assert list(tmp.iterdir()) == [], "the ledger's folder outlived the server"


def test_approvals_verify_in_whichever_worker_answers(two_workers: tuple[str, Path]) -> None:
    # No keep-alive: every request is a new connection, which either worker may accept.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(
        headers=JSON_HEADERS, base_url=two_workers[0], limits=limits, trust_env=False, timeout=10
    ) as http:
        for _ in range(6):
            history, paused = reach_approval(http)
            reply = chat(http, decision(history, paused))
            assert reply["data"]["session"] == {}
            assert reply["data"]["executed_tool_calls"][0]["output"].startswith("✅ Deployed")


def _one_client_per_worker(url: str) -> list[httpx.Client]:
    """Two keep-alive clients, each connected to a different worker (asked with /whoami)."""
    by_worker: dict[str, httpx.Client] = {}
    for _ in range(40):
        http = httpx.Client(headers=JSON_HEADERS, base_url=url, trust_env=False, timeout=10)
        worker = chat(http, [{"role": "user", "content": "/whoami"}])["content"]
        if worker in by_worker:
            http.close()
        else:
            by_worker[worker] = http
        if len(by_worker) == 2:
            return list(by_worker.values())
    raise AssertionError(f"40 connections all reached {list(by_worker)}")


def test_a_replay_to_the_other_worker_is_refused(two_workers: tuple[str, Path]) -> None:
    url, tmp = two_workers
    [ledger_folder] = tmp.iterdir()
    assert stat.S_IMODE(ledger_folder.stat().st_mode) == 0o700
    clients = _one_client_per_worker(url)
    try:
        history, paused = reach_approval(clients[0])
        body = json.dumps({"messages": decision(history, paused)}).encode()
        # The same approval to both workers at once: one runs it, the other refuses.
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda http: http.post("/api/chat", content=body), clients))
        assert sorted(a.status_code for a in answers) == [200, 403]
        [ran] = [a.json() for a in answers if a.status_code == 200]
        assert ran["data"]["executed_tool_calls"][0]["output"].startswith("✅ Deployed")
        # And again, to each worker: refused by both.
        for http in clients:
            response = http.post("/api/chat", content=body)
            assert response.status_code == 403
            assert "this approval was already used" in response.json()["error"]
    finally:
        for http in clients:
            http.close()


def test_serve_says_once_how_to_stop_and_hides_uvicorns_start_up_lines(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVE_ENV and "PROXY" not in k.upper()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcaf_cli", "serve", "shop", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    shown = (out + err).decode()
    assert err.decode().splitlines()[0] == (
        f"dcaf: serving shop (offline) at http://127.0.0.1:{port}/api/chat (Ctrl-C stops)"
    )
    assert shown.count("Ctrl-C") + shown.count("CTRL+C") == 1, shown
    for line in ("Started server process", "Waiting for application", "Application startup",
                 "Uvicorn running", "Shutting down", "Finished server process"):  # fmt: skip
        assert line not in shown, shown


def test_port_0_serves_on_a_free_port_and_says_which(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVE_ENV and "PROXY" not in k.upper()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcaf_cli", "serve", "counter", "--port", "0"],
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline().decode()
        url = first.split(" at ", 1)[1].split("/api/chat", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        wait_until_up(url, proc)
        assert httpx.get(f"{url}/health", timeout=30).json()["agent"] == "counter"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
