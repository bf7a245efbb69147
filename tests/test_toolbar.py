"""The REPL's bottom toolbar fits the terminal, giving up the least useful detail first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prompt_toolkit.formatted_text import to_plain_text
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.utils import get_cwidth
from repl_helpers import SizedOutput, buffer_console, conversation_for

from dcaf_cli.repl.toolbar import ToolbarFacts, toolbar_text


def facts(
    path: Path | None, *, always: tuple[str, ...] = (), unsaved: bool = False
) -> ToolbarFacts:
    return ToolbarFacts(path, 12, 5, "openai:gpt-4o-mini", always, unsaved)


@pytest.fixture
def home(isolated_env: Path) -> Path:
    """The test's own home folder, which conftest's autouse fixture moved to a temp path."""
    folder = Path(os.path.expanduser("~"))
    assert folder.is_relative_to(isolated_env.parent)  # never the real one
    return folder


@pytest.fixture
def deep(home: Path) -> Path:
    return home / "projects" / "acme-webshop" / "agents" / "sessions" / "shop-20261201-090000.json"


def test_a_wide_terminal_shows_everything() -> None:
    text = toolbar_text(facts(Path("/srv/cart.json"), always=("execute_deployment",)), 200)
    assert text == (
        " /srv/cart.json · rev 12 · 5 turns · openai:gpt-4o-mini"
        " · approvals: always: execute_deployment"
    )


def test_the_home_folder_is_written_as_a_tilde(deep: Path) -> None:
    text = toolbar_text(facts(deep), 200)
    assert text.startswith(" ~/projects/acme-webshop/agents/sessions/shop-20261201-090000.json · ")


def test_the_folders_of_a_long_path_go_first(deep: Path) -> None:
    assert toolbar_text(facts(deep), 100) == (
        " ~/…/shop-20261201-090000.json · rev 12 · 5 turns · openai:gpt-4o-mini · approvals: ask"
    )
    outside = Path("/var/lib/dcaf/sessions/of/a/team/cart.json")
    assert toolbar_text(facts(outside), 80).startswith(" /…/cart.json · rev 12 ·")


def test_a_narrow_terminal_keeps_the_file_name_revision_model_and_approvals(deep: Path) -> None:
    text = toolbar_text(facts(deep, always=("execute_deployment",)), 100)
    assert text == (
        " shop-20261201-090000.json · rev 12 · 5 turns · openai:gpt-4o-mini"
        " · approvals: always: 1 tool"
    )
    text = toolbar_text(facts(deep, always=("a", "b")), 80)  # short names stay
    assert text.endswith(" · approvals: always: a, b")
    two = ("execute_deployment", "rollback")
    text = toolbar_text(facts(deep, always=two, unsaved=True), 80)
    assert text == " rev 12 · openai:gpt-4o-mini · approvals: always: 2 tools · UNSAVED"
    text = toolbar_text(facts(deep, always=two, unsaved=True), 60)
    assert text == " rev 12 · approvals: always: 2 tools · UNSAVED"  # the model goes first


@pytest.mark.parametrize("unsaved", [False, True])
def test_every_width_fits_and_unsaved_is_never_cut(deep: Path, unsaved: bool) -> None:
    f = facts(deep, always=("execute_deployment", "rollback"), unsaved=unsaved)
    for width in range(12, 220):
        text = toolbar_text(f, width)
        assert get_cwidth(text) <= width, (width, text)
        assert text.endswith(" · UNSAVED") == unsaved, (width, text)
        assert "rev 12" in text or "…" in text, (width, text)


def test_wide_characters_count_as_two_columns() -> None:
    text = toolbar_text(facts(Path("/tmp/カート.json"), unsaved=True), 40)
    assert get_cwidth(text) <= 40
    assert text.endswith(" · UNSAVED")


@pytest.mark.parametrize("columns", [200, 60, 40])
def test_the_repl_fits_its_toolbar_to_the_terminal(home: Path, columns: int) -> None:
    from dcaf_cli.repl.app import Repl, make_prompt_session

    cart = home / "work" / "orders" / "2026" / "december" / "cart.json"
    cart.parent.mkdir(parents=True)
    conversation = conversation_for("deploy", cart)
    try:
        conversation.approve_always("execute_deployment")
        with create_pipe_input() as pipe:
            prompt = make_prompt_session(input=pipe, output=SizedOutput(columns))
            text = to_plain_text(Repl(conversation, prompt, buffer_console()[0]).toolbar())
    finally:
        conversation.close()
    assert get_cwidth(text) <= columns
    assert "rev 0" in text
    assert "approvals: always: " in text
    if columns == 200:
        assert text == (
            " ~/work/orders/2026/december/cart.json · rev 0 · 0 turns · offline"
            " · approvals: always: execute_deployment"
        )
    if columns == 60:
        assert text == " cart.json · rev 0 · offline · approvals: always: 1 tool"
