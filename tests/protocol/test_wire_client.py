"""`dcaf run --url` against servers that speak DCAF's shapes: a v1-only server (the
`/api/sendMessage*` endpoints), and one that proposes in DCAF's unified `approvals` and
sends `intermittent_update` status lines. The real program, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dcaf_servers import POD_CALL, UnifiedServer, V1Server

DCAF = Path(sys.executable).parent / "dcaf"


def dcaf_run(url: str, session: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env["NO_PROXY"] = "127.0.0.1"
    command = [str(DCAF), "run", "--url", url, "--session", str(session), *args]
    return subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("stream", [False, True], ids=["sendMessage", "sendMessageStream"])
def test_a_v1_only_server(tmp_path: Path, stream: bool) -> None:
    session = tmp_path / "v1.json"
    with V1Server(stream=stream) as server:
        done = dcaf_run(server.url, session, "-m", "hello", "-m", "again", "--json")
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line)["reply"] for line in done.stdout.splitlines()]
    paths = [path for path, _ in server.bodies]
    if stream:
        assert replies == ["v1 streams: hello", "v1 streams: again"]
        assert paths == ["/api/sendMessageStream"] * 2  # found once, then used
    else:
        assert replies == ["v1 says: hello", "v1 says: again"]
        assert paths == ["/api/sendMessage"] * 2
        saved = json.loads(session.read_text())
        assert saved["session"] == {"count": 2}  # v1's `data.session`, read and sent back
        assert server.bodies[1][1]["messages"][-1]["data"]["session"] == {"count": 1}


@pytest.mark.parametrize("approve", ["yes", "no"])
def test_unified_approvals_are_answered_in_their_form(tmp_path: Path, approve: str) -> None:
    with UnifiedServer() as server:
        done = dcaf_run(
            server.url, tmp_path / "pods.json", "-m", "delete the pod", "--approve", approve
        )
    assert done.returncode == 0, done.stderr
    assert len(server.bodies) == 2
    sent = server.bodies[1][1]["messages"][-1]["data"]
    assert "tool_calls" not in sent
    [decision] = sent["approvals"]
    assert {k: decision[k] for k in ("id", "type", "name", "input")} == {
        k: POD_CALL[k] for k in ("id", "type", "name", "input")
    }
    assert decision["execute"] is (approve == "yes")
    if approve == "yes":
        assert 'pod "nginx-1" deleted' in done.stdout
    else:
        assert decision["rejection_reason"]


def test_intermittent_updates_are_status_lines(tmp_path: Path) -> None:
    with UnifiedServer() as server:
        done = dcaf_run(server.url, tmp_path / "s.json", "-m", "hello")
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert "… Thinking..." in lines
    assert lines.index("… Thinking...") < lines.index("Nothing to do.")
