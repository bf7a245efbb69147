"""Replaying an approval does not run the tool twice: the ledger of used proposals,
driven over real HTTP (uvicorn on 127.0.0.1) with httpx."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fakes.chat_client import chat, decision, isolate, reach_approval, user
from fakes.live_server import JSON_HEADERS, serving
from fakes.server_agents import RUNS, counted_deploy, failing_launch

from dcaf_cli.server import create_app
from dcaf_cli.server.ledger import SqliteLedger


class BrokenLedger:
    def claim(self, entries: Mapping[str, float]) -> list[str]:
        raise OSError("disk full")


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, httpx.Client]]:
    shared = tmp_path_factory.mktemp("ledger") / "approvals.sqlite3"
    apps = {
        "deploy": create_app(counted_deploy()),
        "launch": create_app(failing_launch()),
        "broken": create_app(counted_deploy(), ledger=BrokenLedger()),
        # Two processes' worth of apps on one SQLite ledger (and one key).
        "sqlite_1": create_app(
            counted_deploy(), approval_key=b"q" * 32, ledger=SqliteLedger(shared)
        ),
        "sqlite_2": create_app(
            counted_deploy(), approval_key=b"q" * 32, ledger=SqliteLedger(shared)
        ),
    }
    with contextlib.ExitStack() as stack:
        urls = stack.enter_context(serving(apps))
        yield {
            name: stack.enter_context(
                httpx.Client(headers=JSON_HEADERS, base_url=url, timeout=10, trust_env=False)
            )
            for name, url in urls.items()
        }


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    RUNS.clear()


ALREADY_USED = "this approval was already used"


def test_replayed_approval_does_not_run_twice(clients: dict[str, httpx.Client]) -> None:
    http = clients["deploy"]
    history, paused = reach_approval(http)
    body = json.dumps({"messages": decision(history, paused)}).encode()
    assert http.post("/api/chat", content=body).status_code == 200
    assert len(RUNS) == 1
    # The very same request again (a retry after a lost answer), pre-execution session and
    # all: its signature still verifies, the ledger says it was used.
    for path in ("/api/chat", "/api/chat-stream", "/api/sendMessage"):
        response = http.post(path, content=body)
        assert response.status_code == 403
        assert response.json()["error"] == (
            f"refused to run execute_deployment (offline-1): {ALREADY_USED} "
            "(a proposal is decided once; ask again)"
        )
    # And carrying another session state (say, one the execution produced): that one
    # does not verify.
    replay = decision(history, paused, session={"deployment": None})
    response = http.post("/api/chat", json={"messages": replay})
    assert response.status_code == 403
    assert "another session state" in response.json()["error"]
    assert len(RUNS) == 1


def test_concurrent_identical_approvals_run_the_tool_once(clients: dict[str, httpx.Client]) -> None:
    http = clients["deploy"]
    history, paused = reach_approval(http)
    body = json.dumps({"messages": decision(history, paused)}).encode()

    def post(path: str) -> int:
        with httpx.Client(
            headers=JSON_HEADERS, base_url=http.base_url, timeout=10, trust_env=False
        ) as own:
            return own.post(path, content=body).status_code

    paths = ["/api/chat", "/api/chat-stream"] * 4
    with ThreadPoolExecutor(len(paths)) as pool:
        statuses = sorted(pool.map(post, paths))
    assert statuses == [200] + [403] * 7
    assert len(RUNS) == 1


def test_asking_again_gives_a_new_proposal_each_usable_once(
    clients: dict[str, httpx.Client],
) -> None:
    http = clients["deploy"]
    history, paused = reach_approval(http)
    again = chat(http, history)  # the same question, the same session, the same second
    assert (
        again["data"]["tool_calls"][0]["signature"] != paused["data"]["tool_calls"][0]["signature"]
    )
    chat(http, decision(history, paused))
    chat(http, decision(history, again))
    assert len(RUNS) == 2


def test_a_rejected_proposal_cannot_be_approved_or_rejected_again(
    clients: dict[str, httpx.Client],
) -> None:
    http = clients["deploy"]
    history, paused = reach_approval(http)
    chat(http, decision(history, paused, approve=False))
    for approve, verb in ((True, "run"), (False, "reject")):
        response = http.post(
            "/api/chat", json={"messages": decision(history, paused, approve=approve)}
        )
        assert response.status_code == 403
        assert response.json()["error"].startswith(f"refused to {verb} execute_deployment")
        assert ALREADY_USED in response.json()["error"]
    assert RUNS == []


def test_an_approval_whose_run_fails_stays_used(clients: dict[str, httpx.Client]) -> None:
    http = clients["launch"]
    history = [user("/launch", {"pad": 39})]
    paused = chat(http, history)
    conversation = decision(history, paused)
    reply = chat(http, conversation)
    assert "the launch pad is on fire" in json.dumps(reply)
    assert reply["data"]["session"] == {"pad": 39}
    response = http.post("/api/chat", json={"messages": conversation})
    assert response.status_code == 403
    assert ALREADY_USED in response.json()["error"]
    assert len(RUNS) == 1


def test_apps_sharing_a_sqlite_ledger_refuse_each_others_used_approvals(
    clients: dict[str, httpx.Client],
) -> None:
    history, paused = reach_approval(clients["sqlite_1"])
    body = json.dumps({"messages": decision(history, paused)}).encode()
    assert clients["sqlite_2"].post("/api/chat", content=body).status_code == 200
    response = clients["sqlite_1"].post("/api/chat", content=body)
    assert response.status_code == 403
    assert ALREADY_USED in response.json()["error"]
    assert len(RUNS) == 1


def test_a_ledger_that_fails_runs_nothing(clients: dict[str, httpx.Client]) -> None:
    history, paused = reach_approval(clients["broken"])
    response = clients["broken"].post("/api/chat", json={"messages": decision(history, paused)})
    assert response.status_code == 503
    assert response.json()["error"] == (
        "the approval ledger failed, so nothing ran; try again: OSError: disk full"
    )
    assert RUNS == []
