"""What an operator sees: `/metrics` (Prometheus text) and JSON access lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fakes.chat_client import chat, decision, isolate, reach_approval
from fakes.live_server import JSON_HEADERS, LiveServer
from fakes.server_agents import RUNS, counted_deploy
from fakes.serving import free_port, wait_until_up
from prometheus_client.parser import text_string_to_metric_families

from dcaf_cli.server import create_app
from dcaf_cli.server.observe import ACCESS_LOGGER, Metrics


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    RUNS.clear()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_count_requests_turns_tools_approvals_and_errors() -> None:
    app = create_app(counted_deploy(), metrics=Metrics())
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        history, paused = reach_approval(http)  # three turns: two tool calls, one pause
        chat(http, decision(history, paused))  # the approval: claimed, the tool runs
        assert (
            http.post("/api/chat", json={"messages": decision(history, paused)}).status_code == 403
        )
        assert http.post("/api/chat", content=b"{", headers=JSON_HEADERS).status_code == 400
        page = http.get("/metrics")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    got = samples(page.text)
    route = (("method", "POST"), ("route", "/api/chat"), ("status", "200"))
    assert got[("dcaf_http_requests_total", route)] == 4
    assert got[("dcaf_turns_total", (("outcome", "ok"),))] == 3
    assert got[("dcaf_turns_total", (("outcome", "paused"),))] == 1
    ok = (("outcome", "ok"),)
    assert got[("dcaf_tool_calls_total", (*ok, ("tool", "execute_deployment")))] == 1
    assert got[("dcaf_tool_calls_total", (*ok, ("tool", "start_deployment")))] == 1
    assert got[("dcaf_approvals_total", (("result", "claimed"),))] == 1
    assert got[("dcaf_approvals_total", (("result", "refused"),))] == 1
    assert got[("dcaf_errors_total", (("kind", "refused"),))] == 1
    assert got[("dcaf_errors_total", (("kind", "bad_request"),))] == 1
    assert got[("dcaf_http_request_duration_seconds_count", (("route", "/api/chat"),))] == 6


def test_without_metrics_there_is_no_metrics_page() -> None:
    with LiveServer(create_app(counted_deploy())) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 404


def test_json_access_lines_hold_no_session_value(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(counted_deploy(), log_json=True)
    secret_session = {"deployment": {"environment": "staging", "password": "hunter2"}}
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER), LiveServer(app) as server:
        body = {
            "messages": [{"role": "user", "content": "hi", "data": {"session": secret_session}}]
        }
        reply = httpx.post(f"{server.url}/api/chat?token=abc", json=body,
                           headers={"X-Request-ID": "req-42"})  # fmt: skip
        unknown = httpx.get(f"{server.url}/no/such/path")

    assert reply.headers["x-request-id"] == "req-42"
    assert len(unknown.headers["x-request-id"]) == 32  # one made up for it
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    first, second = lines
    assert first["request_id"] == "req-42"
    assert (first["method"], first["path"], first["status"]) == ("POST", "/api/chat", 200)
    assert first["agent"] == "deploy"
    assert first["duration_ms"] >= 0
    assert second["path"] == "(unknown)"  # never the path a client made up
    text = caplog.text
    assert "hunter2" not in text
    assert "token=abc" not in text


def test_dcaf_serve_metrics_with_two_workers_adds_them_up(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dcaf_cli", "serve", "shop", "--port", str(port), "--workers",
         "2", "--metrics", "--log-format", "json"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, path="/ready")
        for _ in range(20):  # a new connection each: both workers get some
            with httpx.Client(base_url=url, timeout=30) as http:
                chat(http, [{"role": "user", "content": "/view_cart"}])
        page = httpx.get(f"{url}/metrics", timeout=30).text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    got = samples(page)
    route = (("method", "POST"), ("route", "/api/chat"), ("status", "200"))
    assert got[("dcaf_http_requests_total", route)] == 20
    assert got[("dcaf_turns_total", (("outcome", "ok"),))] == 20
    access = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert sum(1 for line in access if line["path"] == "/api/chat") == 20
