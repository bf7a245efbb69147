"""The approval ledger in a real Redis, shared by replicas: `dcaf serve --ledger redis://`."""

from __future__ import annotations

import contextlib
import os
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
from fakes.live_server import LiveServer
from fakes.redis_server import RedisServer
from fakes.server_agents import RUNS, counted_deploy
from fakes.serving import free_port, stop, wait_until_up

from dcaf_cli.server import create_app
from dcaf_cli.server.redis_ledger import RedisLedger, redacted

KEY = "5ec12e7" * 9 + "a"  # the approval key (hex) every replica shares


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    RUNS.clear()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    with RedisServer(folder) as server:
        yield server


# -- the ledger itself ------------------------------------------------------------------------


def test_a_key_is_claimed_once(redis: RedisServer) -> None:
    ledger = RedisLedger(redis.url)
    later = time.time() + 3600

    assert ledger.claim({"a": later}) == []
    assert ledger.claim({"a": later}) == ["a"]
    assert len(ledger) == 1


def test_a_claim_is_all_or_nothing(redis: RedisServer) -> None:
    ledger = RedisLedger(redis.url)
    later = time.time() + 3600
    ledger.claim({"b": later})

    assert ledger.claim({"a": later, "b": later, "c": later}) == ["b"]
    assert ledger.claim({"a": later, "c": later}) == []  # neither was recorded above


def test_a_key_is_forgotten_once_it_could_no_longer_verify(redis: RedisServer) -> None:
    ledger = RedisLedger(redis.url)

    assert ledger.claim({"old": time.time() - 1}) == []  # expired as it is set
    assert ledger.claim({"old": time.time() + 3600}) == []
    assert ledger.claim({"old": time.time() + 3600}) == ["old"]


def test_replicas_racing_for_a_key_claim_it_once(redis: RedisServer) -> None:
    ledgers = [RedisLedger(redis.url) for _ in range(4)]
    later = time.time() + 3600

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: ledgers[i % 4].claim({"k": later}), range(200)))

    assert sum(1 for used in results if used == []) == 1


def test_a_redis_that_is_down_fails_the_claim_quickly(redis: RedisServer) -> None:
    ledger = RedisLedger(redis.url, timeout=1.0)
    redis.stop()

    with pytest.raises(Exception, match=r"(?i)connect|refused"):
        ledger.claim({"a": time.time() + 60})
    with pytest.raises(Exception, match=r"(?i)connect|refused"):
        ledger.ping()


def test_passwords_are_not_shown() -> None:
    assert redacted("redis://user:hunter2@db:6379/0") == "redis://user:***@db:6379/0"
    assert redacted("redis://db:6379/0") == "redis://db:6379/0"
    assert "hunter2" not in RedisLedger("redis://:hunter2@127.0.0.1:1/0").describe()


# -- the server with Redis gone and back --------------------------------------------------------


def test_without_redis_approvals_get_503_and_nothing_runs(redis: RedisServer) -> None:
    app = create_app(
        counted_deploy(), approval_key=bytes.fromhex(KEY), ledger=RedisLedger(redis.url, timeout=1)
    )
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        history, paused = reach_approval(http)
        assert http.get("/ready").status_code == 200
        redis.stop()

        ready = http.get("/ready")
        health = http.get("/health")
        refused = http.post("/api/chat", json={"messages": decision(history, paused)})
        plain = http.post("/api/chat", json={"messages": [{"role": "user", "content": "hi"}]})

        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert health.status_code == 200  # liveness: the process is fine
        assert health.json()["ledger"]["ok"] is False
        assert refused.status_code == 503
        assert "the approval ledger failed, so nothing ran; try again" in refused.json()["error"]
        assert RUNS == []
        assert plain.status_code == 200  # requests without approvals need no ledger

        redis.start()  # back on the same port: the approval now runs, once
        assert http.get("/ready").status_code == 200
        assert chat(http, decision(history, paused))["data"]["executed_tool_calls"]
        again = http.post("/api/chat", json={"messages": decision(history, paused)})
        assert again.status_code == 403
        assert len(RUNS) == 1


# -- two hosts --------------------------------------------------------------------------------


class Host:
    """`dcaf serve deploy` in a process and a folder of its own, sharing only Redis."""

    def __init__(self, folder: Path, ledger: str) -> None:
        folder.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DCAF_APPROVAL_KEY": KEY, "PYTHONUNBUFFERED": "1"}
        self.log = (folder / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dcaf_cli", "serve", "deploy", "--port", str(self.port),
             "--ledger", ledger],
            cwd=folder, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait(self) -> None:
        wait_until_up(self.url, self.process, path="/ready")

    def stop(self) -> int:
        code = stop(self.process)
        self.log.close()
        return code


@pytest.fixture
def two_hosts(redis: RedisServer, tmp_path: Path) -> Iterator[list[Host]]:
    hosts = [Host(tmp_path / f"host-{n}", redis.url) for n in (1, 2)]
    try:
        for host in hosts:
            host.wait()
        yield hosts
    finally:
        for host in hosts:
            host.stop()


def executed(reply: httpx.Response) -> list[dict[str, Any]]:
    if reply.status_code != 200:
        return []
    calls: list[dict[str, Any]] = reply.json()["data"]["executed_tool_calls"]
    return [c for c in calls if c["name"] == "execute_deployment"]


@pytest.fixture
def clients(two_hosts: list[Host]) -> Iterator[list[httpx.Client]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(httpx.Client(base_url=h.url, timeout=60)) for h in two_hosts]


def test_an_approval_used_on_one_host_is_refused_on_the_other(clients: list[httpx.Client]) -> None:
    one, other = clients
    history, paused = reach_approval(one)
    conversation = decision(history, paused)

    first = one.post("/api/chat", json={"messages": conversation})
    second = other.post("/api/chat", json={"messages": conversation})

    assert executed(first)
    assert second.status_code == 403
    assert executed(second) == []


def test_concurrent_identical_approvals_across_hosts_run_once(
    clients: list[httpx.Client],
) -> None:
    history, paused = reach_approval(clients[0])
    body = {"messages": decision(history, paused)}

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda i: clients[i % 2].post("/api/chat", json=body), range(200)))

    statuses = {r.status_code for r in replies}
    assert sum(len(executed(r)) for r in replies) == 1
    assert statuses <= {200, 403, 409, 429, 503}, statuses
    assert not any(r.status_code >= 500 and r.status_code != 503 for r in replies)


def test_a_ledger_that_cannot_be_shared_is_refused_at_start(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dcaf_cli", "serve", "deploy", "--workers", "2", "--ledger",
         "memory", "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "dcaf: error: --ledger memory cannot be shared by several workers (leave --ledger out "
        "(the workers share a SQLite file), or use redis://)"
    )


# -- graceful shutdown -------------------------------------------------------------------------

SLOW_AGENT = '''
import os, time
from pathlib import Path
from dcaf_cli import Agent, Session, tool

GATE = Path(os.environ["GATE"])


@tool
def slow(session: Session) -> str:
    """Wait for the test to open the gate, then count."""
    (GATE / "started").touch()
    deadline = time.monotonic() + 60
    while not (GATE / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    session.set("done", session.get("done", 0) + 1)
    return "finished"


agent = Agent(tools=[slow])
'''


def test_sigterm_lets_the_turn_in_flight_finish(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW_AGENT)
    gate = tmp_path / "gate"
    gate.mkdir()
    port = free_port()
    env = {**os.environ, "GATE": str(gate)}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcaf_cli", "serve", "slow.py", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, path="/ready")
        with ThreadPoolExecutor(1) as pool:
            body = {"messages": [{"role": "user", "content": "/slow"}]}
            reply = pool.submit(httpx.post, f"{url}/api/chat", json=body, timeout=60)
            deadline = time.monotonic() + 60
            while not (gate / "started").exists():
                assert proc.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.02)
            proc.terminate()  # SIGTERM while the tool runs
            time.sleep(0.2)
            with pytest.raises(httpx.TransportError):  # no new connection is accepted
                httpx.get(f"{url}/health", timeout=2)
            (gate / "go").touch()
            answer = reply.result(timeout=60)
        assert answer.status_code == 200
        assert answer.json()["data"]["session"] == {"done": 1}  # the turn finished whole
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


# -- key rotation --------------------------------------------------------------------------


def test_a_rolling_restart_with_a_new_key_keeps_pending_approvals_valid(
    redis: RedisServer,
) -> None:
    old, new = "the old secret", "the new secret"
    before = create_app(counted_deploy(), secret=old, ledger=RedisLedger(redis.url))
    with LiveServer(before) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        history, paused = reach_approval_signed(http)
    # Every replica restarts with the new secret first and the old one after it.
    after = create_app(
        counted_deploy(), secret=new, previous_keys=[old], ledger=RedisLedger(redis.url)
    )
    only_new = create_app(counted_deploy(), secret=new, ledger=RedisLedger(redis.url))
    with (
        LiveServer(after) as server,
        LiveServer(only_new) as other,
        httpx.Client(base_url=server.url, timeout=30) as http,
        httpx.Client(base_url=other.url, timeout=30) as strict,
    ):
        answer = decision(history, paused)
        answer[-1]["data"]["session_signature"] = paused["data"]["session_signature"]
        refused = strict.post("/api/chat", json={"messages": answer})
        reply = chat(http, answer)
        # What the new key signs verifies on a replica that knows only the new key.
        session = reply["data"]["session"]
        signed = {"session": session, "session_signature": reply["data"]["session_signature"]}
        again = {"role": "user", "content": "/start_deployment staging", "data": signed}
        fresh = chat(strict, [again])

    assert refused.status_code == 403  # the old key's proposal: unknown without it
    assert [c["name"] for c in reply["data"]["executed_tool_calls"]] == ["execute_deployment"]
    assert len(RUNS) == 1
    assert fresh["data"]["session"]["deployment"]["environment"] == "staging"


def reach_approval_signed(http: httpx.Client) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`reach_approval` for a server that signs sessions: each turn carries the signature."""
    session: dict[str, Any] = {}
    signature: str | None = None
    for text in ("/start_deployment staging", "/add_service api 1.4.2"):
        data: dict[str, Any] = {"session": session}
        if signature:
            data["session_signature"] = signature
        reply = chat(http, [{"role": "user", "content": text, "data": data}])
        session, signature = reply["data"]["session"], reply["data"]["session_signature"]
    history = [{"role": "user", "content": "execute the deployment",
                "data": {"session": session, "session_signature": signature}}]  # fmt: skip
    paused = chat(http, history)
    return history, paused


def test_secrets_come_newest_first_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dcaf_cli import settings
    from dcaf_cli.errors import UsageError

    secrets_file = tmp_path / "secrets"
    secrets_file.write_text("# rotated 2026-12-01\nthe new secret\n\nthe old secret\n")
    monkeypatch.setenv("DCAF_SESSION_SECRET_FILE", str(secrets_file))
    assert settings.session_secrets() == ["the new secret", "the old secret"]
    monkeypatch.setenv("DCAF_SESSION_SECRET", "another")
    with pytest.raises(UsageError, match="not both"):
        settings.session_secrets()
    monkeypatch.delenv("DCAF_SESSION_SECRET")
    secrets_file.write_text("# nothing here\n")
    with pytest.raises(UsageError, match="holds no secret"):
        settings.session_secrets()
    monkeypatch.setenv("DCAF_APPROVAL_KEY", f"{'ab' * 32}, {'cd' * 32}")
    assert settings.approval_keys() == [bytes.fromhex("ab" * 32), bytes.fromhex("cd" * 32)]
    assert settings.approval_key() == bytes.fromhex("ab" * 32)
