"""DCAF compatibility: agent files written with the DCAF framework's imports load and run
unchanged when the real `dcaf` package is not installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import types
import uuid
from pathlib import Path
from typing import Any

import pytest

from dcaf_cli import Agent, FunctionAgent, Session
from dcaf_cli.runtime.compat import install, served
from dcaf_cli.runtime.loader import load_agent
from dcaf_cli.runtime.turn import TurnOptions

pytestmark = pytest.mark.skipif(
    "dcaf" not in sys.modules and importlib.util.find_spec("dcaf") is not None,
    reason="the real dcaf package is installed; the stand-ins step aside",
)

GUIDE_TOOLS = '''
from dcaf.core import Session, Agent
from dcaf.tools import tool
from dcaf.core.primitives import AgentResult
from typing import Literal


@tool(description="Add item to shopping cart")
def add_to_cart(item: str, quantity: int, session: Session) -> str:
    """Add an item to the user's cart."""
    cart = session.get("cart", [])
    cart.append({"item": item, "quantity": quantity})
    session.set("cart", cart)

    total_items = sum(i["quantity"] for i in cart)
    return f"Added {quantity}x {item}. Cart now has {total_items} items."


@tool(description="Checkout and complete purchase")
def checkout(session: Session) -> str:
    """Complete the purchase."""
    cart = session.get("cart", [])

    if not cart:
        return "Cannot checkout - cart is empty."

    total_items = sum(i["quantity"] for i in cart)
    session.delete("cart")  # Clear after checkout

    return f"✅ Order placed! {total_items} items will be shipped."


@tool(requires_approval=True, description="Execute the deployment")
def execute_deployment(session: Session) -> str:
    """Execute the pending deployment (requires approval)."""
    session.delete("deployment")
    return "deployed"


agent = Agent(tools=[add_to_cart, checkout, execute_deployment])
'''

GUIDE_SERVE = '''
from dcaf.core import serve, Session
from dcaf.core.primitives import AgentResult

def my_agent(messages: list, context: dict, session: Session) -> AgentResult:
    """Custom agent with session access."""
    # Read from session
    call_count = session.get("call_count", 0)

    # Modify session
    session.set("call_count", call_count + 1)
    session.set("last_message", messages[-1]["content"])

    # Return result with session data
    return AgentResult(
        text=f"This is call #{call_count + 1}",
        session=session.to_dict(),  # Include updated session in response
    )

serve(my_agent)
'''

GUIDE_SERVE_OLD_STYLE = """
from dcaf.core import serve
from dcaf.core.primitives import AgentResult

# Old style (still supported)
def my_agent(messages: list, context: dict) -> AgentResult:
    return AgentResult(text="Hello!")

serve(my_agent, port=8000)
"""

GUIDE_INTERCEPTORS = '''
from dcaf.core import Agent, LLMRequest, LLMResponse, Session
from dcaf.tools import tool


@tool(description="Recall a value")
def recall(key: str, session: Session) -> str:
    """Retrieve a value from session."""
    value = session.get(key)
    if value is None:
        return f"I don't remember '{key}'"
    return f"{key} is '{value}'"


def add_user_context(request: LLMRequest) -> LLMRequest:
    """Add user-specific context from session."""
    user_name = request.session.get("user_name", "User")
    request.add_system_context(f"User: {user_name}")
    count = request.session.get("request_count", 0)
    request.session.set("request_count", count + 1)
    return request


def track_response_metrics(response: LLMResponse) -> LLMResponse:
    response.session.set("had_tool_calls", response.has_tool_calls())
    return response


agent = Agent(
    tools=[recall],
    request_interceptors=add_user_context,
    response_interceptors=track_response_metrics,
)
'''


def write(folder: Path, source: str, name: str = "guide_agent.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def test_a_guide_tools_file_loads_and_runs_unchanged(tmp_path: Path) -> None:
    agent = load_agent(str(write(tmp_path, GUIDE_TOOLS)))
    assert isinstance(agent, Agent)
    assert [t.name for t in agent.tools] == ["add_to_cart", "checkout", "execute_deployment"]
    # `tool` from dcaf.tools has DCAF's default: every tool asks before it runs.
    assert all(t.requires_approval for t in agent.tools)
    asked = agent.run([user("add 2 Widgets to my cart")], session={})
    assert [p.name for p in asked.pending_tool_calls] == ["add_to_cart"]
    assert asked.session == {}
    approved = TurnOptions(always_approve=frozenset({"add_to_cart", "checkout"}))
    first = agent.run([user("add 2 Widgets to my cart")], session={}, options=approved)
    assert first.text == "Added 2x Widget. Cart now has 2 items."
    assert first.session == {"cart": [{"item": "Widget", "quantity": 2}]}
    second = agent.run([user("checkout")], session=first.session, options=approved)
    assert second.text == "✅ Order placed! 2 items will be shipped."
    assert second.session == {}
    paused = agent.run([user("/execute_deployment")], session={"deployment": {}})
    assert [p.name for p in paused.pending_tool_calls] == ["execute_deployment"]


def test_guide_imports_give_dcaf_cli_objects() -> None:
    install()
    from dcaf.core import Agent as GuideAgent
    from dcaf.core import Session as GuideSession
    from dcaf.core.primitives import AgentResult as GuideResult
    from dcaf.core.session import Session as GuideSession2
    from dcaf.tools import tool as guide_tool

    import dcaf_cli

    assert GuideSession is GuideSession2 is dcaf_cli.Session
    assert issubclass(GuideAgent, dcaf_cli.Agent)
    assert GuideResult is dcaf_cli.AgentResult
    assert isinstance(guide_tool(lambda: None), dcaf_cli.Tool)
    import dcaf

    assert dcaf.core.primitives.AgentResult is dcaf_cli.AgentResult


def test_a_guide_file_calling_serve_loads_the_served_agent(tmp_path: Path) -> None:
    agent = load_agent(str(write(tmp_path, GUIDE_SERVE)))
    assert isinstance(agent, FunctionAgent)
    assert agent.name == "my_agent"
    assert served == []  # taken by the loader, not left for the next load
    session: dict[str, Any] = {}
    for n in (1, 2):
        response = agent.run([user(f"hello {n}")], session=session)
        assert response.text == f"This is call #{n}"
        assert response.session == {"call_count": n, "last_message": f"hello {n}"}
        session = response.session


def test_a_guide_old_style_serve_file(tmp_path: Path) -> None:
    agent = load_agent(str(write(tmp_path, GUIDE_SERVE_OLD_STYLE)))
    assert isinstance(agent, FunctionAgent)
    assert not agent.wants_session
    response = agent.run([user("hi")], session={"kept": 1})
    assert (response.text, response.session) == ("Hello!", {"kept": 1})


def test_a_guide_interceptors_file(tmp_path: Path) -> None:
    agent = load_agent(str(write(tmp_path, GUIDE_INTERCEPTORS)))
    assert isinstance(agent, Agent)
    response = agent.run(
        [user("recall user_name")],
        session={"user_name": "Alice"},
        options=TurnOptions(always_approve=frozenset({"recall"})),
    )
    assert response.text == "user_name is 'Alice'"
    # One user turn, one request counted (request interceptors run once per run).
    assert response.session == {"user_name": "Alice", "request_count": 1, "had_tool_calls": False}


def test_a_guide_module_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"guide_mod_{uuid.uuid4().hex[:8]}"
    write(tmp_path, GUIDE_SERVE, f"{name}.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        agent = load_agent(name)
        assert agent.name == "my_agent"
        # Imported again (cached module: serve() does not run twice), still the same agent.
        assert load_agent(f"{name}:my_agent").name == "my_agent"
    finally:
        sys.modules.pop(name, None)


def test_a_file_with_agent_wins_over_a_served_function(tmp_path: Path) -> None:
    source = (
        GUIDE_SERVE + "\nfrom dcaf.core import Agent\nagent = Agent(tools=[], name='explicit')\n"
    )
    agent = load_agent(str(write(tmp_path, source)))
    assert agent.name == "explicit"


def test_the_stand_ins_step_aside_for_a_real_dcaf(monkeypatch: pytest.MonkeyPatch) -> None:
    real = types.ModuleType("dcaf", "the real one")
    for name in [m for m in sys.modules if m == "dcaf" or m.startswith("dcaf.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dcaf", real)
    install()
    assert sys.modules["dcaf"] is real
    assert "dcaf.core" not in sys.modules


def test_the_stand_ins_session_is_the_real_session() -> None:
    install()
    from dcaf.core import Session as GuideSession

    session = GuideSession()
    session.set("x", 1)
    assert isinstance(session, Session)
    assert session.is_modified


def test_the_stand_ins_are_made_when_a_file_first_imports_dcaf() -> None:
    """An agent that never imports `dcaf` does not pay for its stand-ins (a fresh
    interpreter, so that no other test made them first)."""
    script = textwrap.dedent("""
        import sys
        from dcaf_cli.runtime.loader import load_agent
        load_agent("shop")
        load_agent("counter")
        assert "dcaf" not in sys.modules, "made before any import"
        assert "dcaf_cli.runtime.compat.messages" not in sys.modules
        from dcaf.core import Session
        from dcaf.tools import tool
        from dcaf_cli import Session as Ours
        assert Session is Ours and callable(tool)
        try:
            from dcaf.core import emit_update
        except ImportError as exc:
            print(exc)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "dcaf.core.emit_update is not available in dcaf-cli: progress shows as the turn's "
        "tool calls; remove the call\n"
    )


def test_a_dcaf_beside_the_file_does_not_take_the_stand_ins_place(tmp_path: Path) -> None:
    """A folder named `dcaf` next to the agent file (or the file's own name) is not DCAF:
    what to serve was decided before the file's folder went on the path."""
    (tmp_path / "dcaf").mkdir()
    (tmp_path / "dcaf" / "__init__.py").write_text("raise RuntimeError('not DCAF')\n")
    agent_file = tmp_path / "agent.py"
    agent_file.write_text(GUIDE_TOOLS + "\nagent = Agent(tools=[add_to_cart])\n")
    script = textwrap.dedent(f"""
        from dcaf_cli.runtime.loader import load_agent
        print([t.name for t in load_agent({str(agent_file)!r}).tools])
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['add_to_cart']\n"
