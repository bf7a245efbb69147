"""Small agents for the REPL, CLI and bad-input tests (importable, and loadable by path:
`dcaf run tests/repl_agents.py:markup`)."""

from __future__ import annotations

import threading
import time
from typing import Literal

from dcaf_cli import Session, tool
from dcaf_cli.runtime.agent import Agent

MARKUP = "[red]boom[/red] [bold]x[/] \x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b2J"


@tool(description="Transfer money to someone", requires_approval=True)
def transfer(amount: int, to: str, session: Session) -> str:
    """Move money (needs approval)."""
    session.set("sent", [*session.get("sent", []), {"to": to, "amount": amount}])
    return f"sent {amount} to {to}"


@tool(description="Pick a size")
def pick(size: Literal["small", "large"], session: Session) -> str:
    session.set("size", size)
    return f"size {size}"


bank = Agent(tools=[transfer, pick], name="bank")


# -- a tool slow enough to interrupt ---------------------------------------------------

slow_started = threading.Event()


@tool(description="Add an item slowly")
def slow_add(item: str, session: Session) -> str:
    """Changes the session, then takes its time (up to 20 s) so a Ctrl-C can land."""
    session.set("cart", [*session.get("cart", []), item])
    slow_started.set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return "too slow: nobody interrupted me"


@tool(description="Add an item and be interrupted")
def interrupted_add(item: str, session: Session) -> str:
    """What a Ctrl-C inside the tool body looks like, without a signal."""
    session.set("cart", [*session.get("cart", []), item])
    raise KeyboardInterrupt


@tool(description="Add an item quickly")
def quick_add(item: str, session: Session) -> str:
    session.set("cart", [*session.get("cart", []), item])
    return f"added {item}"


slow = Agent(tools=[slow_add, interrupted_add, quick_add], name="slow")


# -- data that must be shown literally, secrets, failures ------------------------------


@tool(description="Return Rich markup and terminal escapes")
def shout(session: Session) -> str:
    session.set("banner", MARKUP)
    return MARKUP


markup = Agent(tools=[shout], name="markup")


@tool(description="Store an API key")
def store_key(session: Session) -> str:
    session.set("api_key", "sk-live-0123456789abcdefghijklmnop")
    return "stored"


secrets = Agent(tools=[store_key], name="secrets")


@tool(description="Fail on purpose")
def explode(session: Session) -> str:
    session.set("half", "done")
    raise RuntimeError("the tool blew up")


failing = Agent(tools=[explode], name="failing")


# Hostile tools: broken text, sys.exit, and credentials that must be redacted.
PEM_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretbody\n-----END RSA PRIVATE KEY-----"
)


@tool(description="Store text that is not Unicode")
def store_broken(session: Session) -> str:
    session.set("note", "half \udcff")
    return "stored"


@tool(description="Return text that is not Unicode")
def say_broken(session: Session) -> str:
    return "half \ud800"


@tool(description="Leave the program")
def leave(session: Session) -> str:
    session.set("left", True)
    raise SystemExit(3)


@tool(description="Store a fine value")
def store_fine(session: Session) -> str:
    session.set("fine", True)
    return "stored"


@tool(description="Keep a connection string")
def keep(url: str, session: Session) -> str:
    session.set("database", url)
    return f"kept {url}"


@tool(description="Keep a private key")
def keep_pem(session: Session) -> str:
    session.set("deploy", PEM_KEY)
    return f"kept {PEM_KEY}"


HOSTILE = Agent(tools=[store_broken, say_broken, leave, store_fine, keep, keep_pem], name="hostile")
