"""The REPL over `--url` behaves as it does with a local agent: the server's tools (from
`GET /api/tools`) are listed, completed and called with `/name args`, each reply is
printed once, and the scripted runner checks tool names the same way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chat_helpers import run_dcaf
from fakes.chat_client import isolate
from fakes.live_server import serving
from fakes.reference_server import ReferenceServer
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from repl_helpers import run_repl

from dcaf_cli.cli.chat import ChatSettings, open_conversation
from dcaf_cli.conversation import Conversation
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.runtime.remote_tools import tools_from_listing
from dcaf_cli.server import create_app
from dcaf_cli.store.filestore import read_session_file


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    apps = {name: create_app(load_agent(name)) for name in ("shop", "counter", "deploy")}
    with contextlib.ExitStack() as stack:
        found = dict(stack.enter_context(serving(apps)))
        found["reference"] = stack.enter_context(ReferenceServer()).url
        yield found


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch)


@contextlib.contextmanager
def remote(url: str, path: Path) -> Iterator[Conversation]:
    conversation = open_conversation(ChatSettings(url=url, session=path))
    try:
        yield conversation
    finally:
        conversation.close()


def test_the_server_lists_its_tools_with_schemas(urls: dict[str, str]) -> None:
    listing = httpx.get(f"{urls['deploy']}/api/tools").json()
    tools = {t["name"]: t for t in listing["tools"]}
    assert list(tools) == ["start_deployment", "add_service", "execute_deployment"]
    start = tools["start_deployment"]
    assert start["parameters"]["properties"]["environment"]["enum"] == ["staging", "production"]
    assert start["requires_approval"] is False
    assert tools["execute_deployment"]["requires_approval"] is True
    assert listing["tools"] == [t.listing() for t in load_agent("deploy").tools]


def test_listed_tools_keep_types_choices_and_defaults(urls: dict[str, str]) -> None:
    (start, add, _) = tools_from_listing(httpx.get(f"{urls['deploy']}/api/tools").json())
    assert start.params[0].choices == ("staging", "production")
    assert [p.name for p in add.params] == ["service_name", "version"]
    assert add.missing({"service_name": "api"}) == ["version"]


def test_slash_tool_calls_work_in_the_remote_repl(urls: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    with remote(urls["shop"], path) as conversation:
        run = run_repl(conversation, ["/add_to_cart Foo 3", "/tools", "/nope 1"])
    assert "unknown command /add_to_cart" not in run.output
    assert '▸ add_to_cart(item="Foo", quantity=3)' in run.output
    assert read_session_file(path).session == {"cart": [{"item": "Foo", "quantity": 3}]}
    assert "add_to_cart" in run.output.split("saved")[-1]  # /tools lists the server's tools
    assert "has no tools" not in run.output
    assert "error: unknown command /nope" in run.output


def test_remote_tools_complete(urls: dict[str, str], tmp_path: Path) -> None:
    with remote(urls["deploy"], tmp_path / "r.json") as conversation:
        from repl_helpers import buffer_console

        from dcaf_cli.repl.app import Repl, make_prompt_session

        repl = Repl(conversation, make_prompt_session(), buffer_console()[0])
        completer = repl.prompt.completer
        assert completer is not None

        def complete(text: str) -> list[str]:
            found = completer.get_completions(Document(text), CompleteEvent())
            return [c.text for c in found]

        assert complete("/start_d") == ["/start_deployment"]
        assert complete("/start_deployment env") == ["environment="]
        assert complete("/start_deployment environment=") == [
            "environment=staging",
            "environment=production",
        ]


def test_each_remote_reply_is_printed_once(urls: dict[str, str], tmp_path: Path) -> None:
    with remote(urls["counter"], tmp_path / "r.json") as conversation:
        run = run_repl(conversation, ["hello", "again"])
    assert run.output.count("This is call #1") == 1
    assert run.output.count("This is call #2") == 1


def test_a_server_without_a_listing_still_chats(urls: dict[str, str], tmp_path: Path) -> None:
    with remote(urls["reference"], tmp_path / "r.json") as conversation:
        assert conversation.agent.tools == []
        run = run_repl(conversation, ["hello"])
    assert run.output.count("you said: hello") == 1


def test_scripts_check_remote_tool_names_too(
    urls: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "r.json"
    r: Any = run_dcaf(capsys, monkeypatch, "run", "--url", urls["shop"], "-s", path,
                      "-m", "/add_to_cart Foo 3", "-m", "/nope")  # fmt: skip
    assert r.status == 2
    assert "/nope is not a tool of remote" in r.err
    assert read_session_file(path).session == {"cart": [{"item": "Foo", "quantity": 3}]}
