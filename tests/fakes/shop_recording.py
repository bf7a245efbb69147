"""A recorded three-turn conversation with the `shop` example agent, for provider tests.

`MODEL_TURNS` is what a real model did in each user turn: one tool call, then a closing
reply. A provider test queues it on its fake server (in that provider's wire format),
runs `run_shop` through the provider, and compares the session with `run_shop("offline")`.
"""

from __future__ import annotations

from typing import Any

from dcaf_cli.examples import shop
from dcaf_cli.models.base import Model
from dcaf_cli.runtime.agent import Agent

USER_TURNS = ["add 2 widgets to my cart", "add 1 gadget", "what's in my cart?"]
MODEL_TURNS: list[tuple[str, dict[str, Any], str]] = [  # (tool, arguments, reply)
    ("add_to_cart", {"item": "widget", "quantity": 2}, "Added 2 widgets to your cart."),
    ("add_to_cart", {"item": "gadget", "quantity": 1}, "Added a gadget."),
    ("view_cart", {}, "You have 2 widgets and 1 gadget."),
]
SYSTEM_PROMPT = "You run a shop."


def run_shop(model: Model | str) -> tuple[dict[str, Any], list[str]]:
    """Play the user's turns through the shop agent; the final session and the replies."""
    agent = Agent(tools=shop.agent.tools, model=model, system_prompt=SYSTEM_PROMPT)
    history: list[dict[str, Any]] = []
    session: dict[str, Any] = {}
    replies: list[str] = []
    for text in USER_TURNS:
        history.append({"role": "user", "content": text})
        response = agent.run(history, session=session)
        assert response.error is None, response.error
        session = response.session
        replies.append(response.text)
        history.append(response.to_message(include_session=False))
    return session, replies


def alternates(messages: list[dict[str, Any]]) -> bool:
    """Whether user and assistant turns alternate, starting with the user's."""
    roles = [m["role"] for m in messages]
    return all(role == ("user", "assistant")[i % 2] for i, role in enumerate(roles))


def run_failing_turn(model: Model) -> tuple[dict[str, Any], str | None]:
    """One shop turn whose model fails after a tool ran: the session and the error."""
    agent = Agent(tools=shop.agent.tools, model=model, system_prompt=SYSTEM_PROMPT)
    before = {"cart": [{"item": "gadget", "quantity": 1}]}
    response = agent.run([{"role": "user", "content": USER_TURNS[0]}], session=before)
    return response.session, response.error
