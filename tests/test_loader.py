"""Loading agents from specs: files and modules, `:name`, what a module may hold, and
one-line errors naming the spec."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcaf_cli import Agent, AgentResponse, FunctionAgent
from dcaf_cli.errors import AgentLoadError, UsageError
from dcaf_cli.runtime.compat import install as install_compat
from dcaf_cli.runtime.loader import load_agent

TOOLS_SOURCE = """
from dcaf_cli import Session, tool

@tool(description="Remember a value")
def remember(key: str, value: str, session: Session) -> str:
    session.set(key, value)
    return f"Remembered {key}={value}"

@tool(description="Recall a value")
def recall(key: str, session: Session) -> str:
    return f"{key} is {session.get(key)!r}"

def helper(x):  # not a tool: ignored
    return x
"""

AGENT_SOURCE = (
    TOOLS_SOURCE
    + """
from dcaf_cli import Agent

agent = Agent(tools=[remember], name="only-remember")
both = [remember, recall]
single = recall
count = 3

def custom(messages, context, session):
    session.set("seen", messages[-1]["content"])
    return "custom reply"

def two(messages, context):
    return "two reply"
"""
)


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path; modules imported from it are forgotten afterwards."""
    folder = tmp_path / "mods"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if getattr(sys.modules[name], "__file__", "") and str(folder) in str(
            sys.modules[name].__file__
        ):
            del sys.modules[name]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def say(agent: object, text: str, session: dict[str, object] | None = None) -> AgentResponse:
    assert isinstance(agent, Agent | FunctionAgent)
    return agent.run([{"role": "user", "content": text}], session=session or {})


# -- what a spec can name -------------------------------------------------------------------


def test_a_file_with_an_agent_uses_it(tmp_path: Path) -> None:
    path = write(tmp_path, "agent_file.py", AGENT_SOURCE)
    agent = load_agent(str(path))
    assert isinstance(agent, Agent)
    assert agent.name == "only-remember"
    assert [t.name for t in agent.tools] == ["remember"]


def test_a_file_with_only_tools_gets_all_of_them(tmp_path: Path) -> None:
    path = write(tmp_path, "tools_only.py", TOOLS_SOURCE)
    agent = load_agent(str(path))
    assert isinstance(agent, Agent)
    assert agent.name == "tools_only"
    assert [t.name for t in agent.tools] == ["remember", "recall"]
    response = say(agent, "/remember color blue")
    assert response.session == {"color": "blue"}


@pytest.mark.parametrize(
    ("attr", "kind", "tools"),
    [
        ("agent", Agent, ["remember"]),
        ("both", Agent, ["remember", "recall"]),
        ("single", Agent, ["recall"]),
        ("custom", FunctionAgent, []),
        ("two", FunctionAgent, []),
    ],
)
def test_name_picks_an_object(tmp_path: Path, attr: str, kind: type, tools: list[str]) -> None:
    path = write(tmp_path, "agent_file.py", AGENT_SOURCE)
    agent = load_agent(f"{path}:{attr}")
    assert isinstance(agent, kind)
    assert [t.name for t in agent.tools] == tools


def test_a_custom_function_runs_as_an_agent(tmp_path: Path) -> None:
    path = write(tmp_path, "agent_file.py", AGENT_SOURCE)
    response = say(load_agent(f"{path}:custom"), "hello")
    assert response.text == "custom reply"
    assert response.session == {"seen": "hello"}
    assert say(load_agent(f"{path}:two"), "hi").text == "two reply"


def test_a_module_spec_with_and_without_a_name(module_dir: Path) -> None:
    name = unique("agentmod")
    write(module_dir, f"{name}.py", AGENT_SOURCE)
    assert load_agent(name).name == "only-remember"
    assert [t.name for t in load_agent(f"{name}:both").tools] == ["remember", "recall"]


def test_a_module_in_a_package(module_dir: Path) -> None:
    package = unique("agentpkg")
    (module_dir / package).mkdir()
    write(module_dir / package, "__init__.py", "")
    write(module_dir / package, "notes.py", TOOLS_SOURCE)
    agent = load_agent(f"{package}.notes")
    assert agent.name == "notes"
    assert [t.name for t in agent.tools] == ["remember", "recall"]


def test_a_file_can_import_its_neighbours(tmp_path: Path) -> None:
    helper = unique("helper")
    write(tmp_path, f"{helper}.py", TOOLS_SOURCE)
    path = write(tmp_path, "main_agent.py", f"from {helper} import remember, recall\n")
    assert [t.name for t in load_agent(str(path)).tools] == ["remember", "recall"]
    assert str(tmp_path) not in sys.path  # the folder was on the path only while loading
    sys.modules.pop(helper, None)


@pytest.mark.parametrize(
    ("spec", "kind", "name"),
    [
        ("shop", Agent, "shop"),
        ("deploy", Agent, "deploy"),
        ("notes", Agent, "notes"),
        ("counter", FunctionAgent, "counter"),
        ("dcaf_cli.examples.shop", Agent, "shop"),
        ("dcaf_cli.examples.shop:add_to_cart", Agent, "add_to_cart"),
    ],
)
def test_built_in_agents_by_short_and_full_name(spec: str, kind: type, name: str) -> None:
    agent = load_agent(spec)
    assert isinstance(agent, kind)
    assert agent.name == name


def test_a_file_is_loaded_afresh_each_time(tmp_path: Path) -> None:
    path = write(tmp_path, "changing.py", TOOLS_SOURCE)
    assert len(load_agent(str(path)).tools) == 2
    write(tmp_path, "changing.py", TOOLS_SOURCE.split('@tool(description="Recall', maxsplit=1)[0])
    assert len(load_agent(str(path)).tools) == 1


# -- specs that cannot load ------------------------------------------------------------------


def load_error(spec: str) -> str:
    with pytest.raises(AgentLoadError) as info:
        load_agent(spec)
    message = str(info.value)
    assert "\n" not in message
    assert f"agent {spec!r}" in message
    assert isinstance(info.value, UsageError)  # exit status 2
    return message


def test_a_missing_file(tmp_path: Path) -> None:
    spec = str(tmp_path / "nope.py")
    assert f"no such file {tmp_path / 'nope.py'}" in load_error(spec)


def test_a_missing_module() -> None:
    message = load_error("no_such_agent_module_xyz")
    assert "no module named 'no_such_agent_module_xyz'" in message
    assert "or a file path (agents/shop.py)" in message


def test_a_missing_module_in_a_package() -> None:
    assert "no module named 'dcaf_cli.examples.nothere'" in load_error("dcaf_cli.examples.nothere")


def test_a_missing_name(tmp_path: Path) -> None:
    path = write(tmp_path, "agent_file.py", AGENT_SOURCE)
    assert "has no 'nobody'" in load_error(f"{path}:nobody")


def test_a_module_without_agent_or_tools(tmp_path: Path, module_dir: Path) -> None:
    path = write(tmp_path, "empty_agent.py", "x = 1\n")
    assert "defines no agent and no tools" in load_error(str(path))
    name = unique("emptymod")
    write(module_dir, f"{name}.py", "def helper(a):\n    return a\n")
    assert "defines no agent and no tools" in load_error(name)


@pytest.mark.parametrize(
    ("attr", "what"),
    [("count", "count is a int, not an agent"), ("helper", "helper is a function, not an agent")],
)
def test_a_name_that_is_not_an_agent(tmp_path: Path, attr: str, what: str) -> None:
    path = write(tmp_path, "agent_file.py", AGENT_SOURCE)
    assert what in load_error(f"{path}:{attr}")


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", "from dcaf_cli import tool\n\ndef f(:\n    pass\n")
    message = load_error(str(path))
    assert f"has a syntax error at {path}:3" in message


def test_a_syntax_error_in_a_module(module_dir: Path) -> None:
    name = unique("brokenmod")
    write(module_dir, f"{name}.py", "x = (\n")
    assert "has a syntax error at" in load_error(name)


def test_an_exception_at_import(tmp_path: Path) -> None:
    path = write(tmp_path, "raises.py", "raise RuntimeError('no config\\nfound')\n")
    assert "failed to import: RuntimeError: no config" in load_error(str(path))


def test_a_file_importing_a_missing_package_names_that_package(
    module_dir: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "needs.py", "import some_missing_sdk_xyz\n")
    assert "failed to import: No module named 'some_missing_sdk_xyz'" in load_error(str(path))
    # A module whose name starts with the missing one's is still the one that failed.
    name = unique("needs")
    write(module_dir, f"{name}.py", f"import {name[:-3]}\n")
    message = load_error(name)
    assert "failed to import" in message
    assert f"No module named {name[:-3]!r}" in message


def test_a_failed_file_leaves_no_module_behind(tmp_path: Path) -> None:
    install_compat()  # registers the `dcaf` stand-ins once; not what this test is about
    before = set(sys.modules)
    path = write(tmp_path, "raises.py", "raise RuntimeError('boom')\n")
    load_error(str(path))
    assert set(sys.modules) == before
