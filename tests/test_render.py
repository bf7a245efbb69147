"""Rendering: data shown literally, secrets masked, diffs by path, long values shortened."""

from __future__ import annotations

import io
import re
from typing import Any, cast

import pytest
from repl_agents import MARKUP
from rich.console import Console, RenderableType

from dcaf_cli.render.diff import render_changes
from dcaf_cli.render.session import render_facts, render_log, render_session_tree
from dcaf_cli.render.text import literal, short_json
from dcaf_cli.render.turn import (
    format_duration,
    render_error,
    render_notice,
    render_pending,
    render_reply,
    render_saved,
    render_secrets_warning,
    render_tool_call,
)
from dcaf_cli.runtime.results import ExecutedToolCall, PendingToolCall
from dcaf_cli.session.diff import Change, diff_sessions
from dcaf_cli.session.jsonvalue import JSON
from dcaf_cli.session.redact import MASK

KEY = "sk-proj-abcdefghijklmnopqrstuvwx"
# Rich's own styling on a colour terminal: SGR sequences only.
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def text(renderable: RenderableType, width: int = 100) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False, _environ={}).print(
        renderable
    )
    return out.getvalue()


def on_a_colour_terminal(renderable: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=100, color_system="truecolor", force_terminal=True, _environ={}).print(
        renderable
    )
    return out.getvalue()


# -- literal text -----------------------------------------------------------------------


def test_literal_shows_markup_and_escapes_as_text() -> None:
    shown = text(literal(MARKUP)).rstrip("\n")
    assert shown == ("[red]boom[/red] [bold]x[/] \\x1b[31mred\\x1b[0m \\x1b]0;title\\x07 \\x9b2J")


@pytest.mark.parametrize(
    "renderable",
    [
        literal(MARKUP),
        render_error(MARKUP),
        render_notice(MARKUP),
        render_saved(MARKUP, 3),
        render_reply(MARKUP, markdown=True),
        render_reply(MARKUP, markdown=False),
        render_changes([Change("added", ("k",), new=MARKUP)]),
        render_session_tree({MARKUP: MARKUP}),
        render_log(
            [cast(Any, {"n": 1, "input": MARKUP, "tool_calls": [{"name": MARKUP}], "patch": []})]
        ),
        render_tool_call(ExecutedToolCall("1", MARKUP, {"x": MARKUP}, MARKUP)),
        render_pending(PendingToolCall("1", MARKUP, {MARKUP: MARKUP}, MARKUP)),
        render_facts([(MARKUP, MARKUP)]),
    ],
    ids=lambda r: type(r).__name__,
)
def test_no_data_reaches_the_terminal_as_control_codes(renderable: RenderableType) -> None:
    raw = on_a_colour_terminal(renderable)
    leftover = _SGR.sub("", raw)
    assert "\x1b" not in leftover  # only Rich's own colours; the data's ESC is text
    assert "\x07" not in leftover
    assert "\x9b" not in leftover
    # Shown as text: `\x1b` in plain text, `\u001b` where the value is shown as JSON.
    assert "\\x1b[31mred" in leftover or "\\u001b[31mred" in leftover
    plain = text(renderable)
    assert "boom" in plain
    assert "[red]" in plain or "[red]" in plain.replace("\\", "")


def test_markdown_replies_still_render_markdown() -> None:
    shown = text(render_reply("# Title\n\n**bold** and `code`", markdown=True))
    assert "Title" in shown
    assert "**" not in shown
    assert "bold" in shown


def test_plain_replies_keep_their_line_breaks() -> None:
    assert text(render_reply("a\n  - b\nc", markdown=False)) == "a\n  - b\nc\n"


# -- values -----------------------------------------------------------------------------


def test_short_json_cuts_long_values() -> None:
    assert short_json({"a": [1, 2]}) == '{"a": [1, 2]}'
    assert short_json("x" * 100, width=10) == '"xxxxxxxx…'
    assert len(short_json(list(range(1000)), width=60)) == 60


def test_short_json_masks_secrets_unless_revealed() -> None:
    assert short_json({"password": "hunter2", "user": "ann"}) == (
        f'{{"password": "{MASK}", "user": "ann"}}'
    )
    assert short_json("hunter2", key="api_key") == f'"{MASK}"'
    assert short_json(KEY) == f'"sk-p…{MASK}"'
    assert short_json(KEY, reveal=True) == f'"{KEY}"'
    assert short_json({"token_count": 3}) == '{"token_count": 3}'


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.0004, "0 µs"), (0.25, "250 µs"), (1.5, "1.5 ms"), (999.9, "999.9 ms"), (2500, "2.50 s")],
)
def test_format_duration(ms: float, shown: str) -> None:
    assert format_duration(ms) == shown


# -- the diff ---------------------------------------------------------------------------


def test_changes_by_path_with_marks() -> None:
    before: dict[str, JSON] = {"cart": [{"item": "a", "quantity": 1}], "user": "ann", "old": True}
    after: dict[str, JSON] = {
        "cart": [{"item": "a", "quantity": 2}, {"item": "b"}],
        "user": "ann",
        "new": None,
    }
    shown = text(render_changes(diff_sessions(before, after)))
    assert [line.rstrip() for line in shown.splitlines()] == [
        "session:",
        "~ cart[0].quantity 1 → 2",
        '+ cart[1]          {"item": "b"}',
        "- old              true",
        "+ new              null",
    ]


def test_no_change() -> None:
    assert text(render_changes([])) == "session: no change\n"


def test_long_values_are_shortened_in_the_diff() -> None:
    shown = text(render_changes([Change("changed", ("k",), old="a" * 200, new="b" * 200)]))
    line = shown.splitlines()[1]
    assert "…" in line
    assert len(line) < 100
    assert text(render_changes([Change("added", ("k",), new="x" * 200)], width=20)).count("x") == (
        18
    )


def test_secrets_are_masked_in_the_diff_unless_revealed() -> None:
    changes = [Change("added", ("api_key",), new="hunter2"), Change("added", ("k",), new=KEY)]
    masked = text(render_changes(changes))
    assert "hunter2" not in masked
    assert KEY not in masked
    assert f'+ api_key "{MASK}"' in masked
    shown = text(render_changes(changes, reveal=True))
    assert "hunter2" in shown
    assert KEY in shown


def test_odd_keys_are_shown_as_paths() -> None:
    shown = text(render_changes([Change("added", ("a b", "c.d", 0), new=1)]))
    assert shown.splitlines()[1].startswith("+ ")
    assert "a b" in shown
    assert "c.d" in shown


# -- a turn -----------------------------------------------------------------------------


def test_tool_call_with_arguments_result_and_time() -> None:
    call = ExecutedToolCall("1", "add_to_cart", {"item": "Widget", "quantity": 2}, "Added.", 0.2)
    assert text(render_tool_call(call)) == (
        '▸ add_to_cart(item="Widget", quantity=2)  200 µs\n  ↳ Added.\n'
    )


def test_failed_tool_call() -> None:
    call = ExecutedToolCall("1", "explode", {}, "Error: boom", 3.0, error="RuntimeError: boom")
    assert text(render_tool_call(call)) == "✗ explode()  3.0 ms\n  ↳ RuntimeError: boom\n"


def test_tool_call_masks_secret_arguments_and_output() -> None:
    call = ExecutedToolCall("1", "login", {"password": "hunter2"}, f"key is {KEY}")
    masked = text(render_tool_call(call))
    assert "hunter2" not in masked
    assert KEY not in masked
    revealed = text(render_tool_call(call, reveal=True))
    assert "hunter2" in revealed
    assert KEY in revealed


def test_pending_panels() -> None:
    approval = text(render_pending(PendingToolCall("1", "deploy", {"env": "prod"}, "Deploy it")))
    assert "approve this call?" in approval
    assert "tool deploy" in approval
    assert "what Deploy it" in approval
    assert 'env  "prod"' in approval
    missing = text(
        render_pending(
            PendingToolCall("1", "add", {"item": "x"}, "", "missing_arguments", ["quantity"])
        )
    )
    assert "arguments needed" in missing
    assert "needs quantity" in missing


def test_saved_warning_error_notice() -> None:
    assert text(render_saved("s.json", 7)) == "saved s.json (revision 7)\n"
    warning = text(render_secrets_warning(["api_key", "creds.token"]), width=300)
    assert warning.startswith("warning: this turn stored what looks like a secret at ")
    assert "api_key, creds.token" in warning
    assert text(render_error("bad")) == "error: bad\n"
    assert text(render_notice("note this")) == "note: note this\n"


# -- the session and the log ------------------------------------------------------------


def test_session_tree_nests_and_cuts_long_lists() -> None:
    data: dict[str, Any] = {"cart": [{"item": "a"}], "many": list(range(60)), "e": {}}
    shown = text(render_session_tree(data))
    assert shown.startswith('session\n├── cart  [1]\n│   └── [0]  {1}\n│       └── item: "a"')
    assert "many  [60]" in shown
    assert "[49]: 49" in shown
    assert "[50]" not in shown
    assert "… 10 more" in shown
    assert "e: {}" in shown


def test_session_tree_masks_secret_keys() -> None:
    shown = text(render_session_tree({"creds": {"password": "hunter2", "user": "ann"}}))
    assert "hunter2" not in shown
    assert f"password: {MASK}" in shown
    assert 'user: "ann"' in shown
    assert "hunter2" in text(render_session_tree({"password": "hunter2"}, reveal=True))


def test_empty_session_tree() -> None:
    assert text(render_session_tree({})) == "session\n└── (empty)\n"


def test_log_rows() -> None:
    turns = [
        {
            "n": 1,
            "at": "2026-11-25T12:00:00Z",
            "input": "add 2 widgets",
            "tool_calls": [{"name": "add_to_cart"}],
            "patch": [{"op": "add", "path": "/cart", "value": []}],
        },
        {"n": 2, "at": "2026-11-25T12:01:00Z", "input": "/set a~1b 1", "tool_calls": [],
         "patch": [{"op": "add", "path": "/a~1b", "value": 1}]},
    ]  # fmt: skip
    rows = [
        line.replace("┃", " ").replace("│", " ")
        for line in text(render_log(cast(Any, turns)), width=120).splitlines()
    ]
    assert rows[0].split() == ["#", "at", "input", "tools", "changed"]
    assert rows[2].split() == ["1", "2026-11-25", "12:00:00", "add", "2", "widgets",
                               "add_to_cart", "cart"]  # fmt: skip
    assert rows[3].split() == ["2", "2026-11-25", "12:01:00", "/set", "a~1b", "1", "-", "a/b"]
    assert text(render_log([])) == "no turns yet\n"
