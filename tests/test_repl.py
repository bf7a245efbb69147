"""The chat loop, driven for real: `Repl.run()` over prompt-toolkit pipe input and a buffer
console (see repl_helpers.py for how keystrokes are fed)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import to_plain_text
from repl_agents import bank, slow, slow_started
from repl_helpers import (
    CTRL_C,
    CTRL_D,
    CTRL_U,
    Run,
    ScriptedPrompts,
    conversation_for,
    run_repl,
    without_durations,
)

from dcaf_cli.conversation import Conversation
from dcaf_cli.repl.commands import COMMANDS
from dcaf_cli.repl.completion import ReplCompleter
from dcaf_cli.settings import history_file
from dcaf_cli.store.filestore import read_session_file
from dcaf_cli.store.records import turn_contents

APPROVE_Q = "run it? [y]es [n]o [a]lways [e]dit: "
ARGS_Q = "arguments (JSON): "


@pytest.fixture
def cart(tmp_path: Path) -> Path:
    return tmp_path / "cart.json"


def repl(agent: object, path: Path | None, entries: list[str], **kwargs: object) -> Run:
    """One REPL run from open to Ctrl-D, with the file released afterwards."""
    conversation = conversation_for(agent, path)  # type: ignore[arg-type]
    try:
        return run_repl(conversation, entries, **kwargs)  # type: ignore[arg-type]
    finally:
        conversation.close()


def file_session(path: Path) -> dict[str, object]:
    return read_session_file(path).session


# -- a whole conversation -------------------------------------------------------------


def test_cart_conversation_shows_calls_diffs_and_saves(cart: Path) -> None:
    first = repl("shop", cart, ["add 2 widgets to my cart", "add 3 gadgets"])
    out = first.output
    assert "dcaf · shop · offline · " + str(cart) in out
    assert '▸ add_to_cart(quantity=2, item="widget")' in out
    assert "↳ Added 2x widget. Cart now has 2 items." in out
    assert '+ cart [{"item": "widget", "quantity": 2}]' in out
    assert f"saved {cart} (revision 1)" in out
    assert '+ cart[1] {"item": "gadget", "quantity": 3}' in out
    assert f"saved {cart} (revision 2)" in out
    # The offline model's reply is the tool output: shown once, under the call.
    assert out.count("Added 2x widget. Cart now has 2 items.") == 1
    assert first.questions == ["› ", "› ", "› "]

    doc = read_session_file(cart)
    assert doc.session == {
        "cart": [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 3}]
    }
    assert doc.revision == 2
    assert [t["input"] for t in doc.turns] == ["add 2 widgets to my cart", "add 3 gadgets"]
    assert doc.turns[1]["patch"] == [
        {"op": "add", "path": "/cart/1", "value": {"item": "gadget", "quantity": 3}}
    ]
    assert doc.turns[1]["undo"] == [{"op": "remove", "path": "/cart/1"}]
    assert [m["role"] for m in doc.messages] == ["user", "assistant"] * 2
    assert doc.meta["agent"] == "shop"
    assert doc.meta["model"] == "offline"

    # A second run picks the conversation up from the file.
    second = repl("shop", cart, ["what's in my cart?", "checkout"])
    out = second.output
    assert (
        "1 key · 2 turns · tools: add_to_cart, remove_from_cart, view_cart, clear_cart, checkout"
        in out
    )
    assert "- 2x widget" in out
    assert "- 3x gadget" in out
    assert "Total: 5 items" in out
    assert "session: no change" in out
    assert f"saved {cart} (revision 3)" in out
    assert "✅ Order placed! 5 items will be shipped." in out
    # Long values are shortened.
    assert '- cart [{"item": "widget", "quantity": 2}, {"item": "gadget", "qua…\n' in out
    assert f"saved {cart} (revision 4)" in out
    doc = read_session_file(cart)
    assert doc.session == {}
    assert doc.revision == 4
    assert len(doc.turns) == 4


def test_input_sent_up_front_reaches_every_prompt(tmp_path: Path) -> None:
    """The finding documented in repl_helpers: typeahead carries keys across prompts."""
    script = [
        "start a deployment",
        "production",
        "/add_service api 1.4.2",
        "execute the deployment",
        "n",
        "not today",
        "/session",
        CTRL_C,
        "/get deployment",
    ]
    fed = repl("deploy", tmp_path / "a.json", script)
    sent = repl("deploy", tmp_path / "b.json", script, up_front=True)
    assert fed.unused == []
    assert fed.questions == sent.questions
    assert without_durations(fed.output) == without_durations(
        sent.output.replace("b.json", "a.json")
    )
    assert "not today" in fed.output


# -- approvals --------------------------------------------------------------------------

DEPLOY_SETUP = ["start a deployment to staging", "/add_service api 1.4.2", "execute the deployment"]


def test_approval_accepted_runs_the_tool(cart: Path) -> None:
    run = repl("deploy", cart, [*DEPLOY_SETUP, "y"])
    assert run.asked == [APPROVE_Q]
    assert "approve this call?" in run.output
    assert "tool execute_deployment" in run.output
    assert "✅ Deployed api:1.4.2 to staging" in run.output
    assert f"saved {cart} (revision 3)" in run.output
    doc = read_session_file(cart)
    assert doc.session == {}
    last = turn_contents(doc)[-1].tool_calls
    assert [(c["name"], c.get("error")) for c in last] == [("execute_deployment", None)]


def test_approval_rejected_with_a_reason_goes_to_the_model(cart: Path) -> None:
    run = repl("deploy", cart, [*DEPLOY_SETUP, "n", "not on a Friday"])
    assert run.asked == [APPROVE_Q, "reason, for the model (optional): "]
    assert "not on a Friday" in run.output
    assert "Deployed" not in run.output
    doc = read_session_file(cart)
    assert doc.session["deployment"]["step"] == "services_added"
    call = turn_contents(doc)[-1].tool_calls[0]
    assert call["name"] == "execute_deployment"
    assert call["error"] == "rejected: not on a Friday"
    decisions = [
        tc
        for m in doc.messages
        for tc in m.get("data", {}).get("tool_calls", [])
        if "rejection_reason" in tc
    ]
    assert decisions
    assert decisions[-1]["rejection_reason"] == "not on a Friday"


def test_approval_rejected_without_a_reason(cart: Path) -> None:
    run = repl("deploy", cart, [*DEPLOY_SETUP, "no", ""])
    assert "the user said no" in run.output
    assert turn_contents(read_session_file(cart))[-1].tool_calls[0]["error"] == (
        "rejected: the user said no"
    )


def test_approval_asks_again_after_a_bad_answer(cart: Path) -> None:
    run = repl("deploy", cart, [*DEPLOY_SETUP, "maybe", "y"])
    assert run.asked == [APPROVE_Q, APPROVE_Q]
    assert "answer y, n, a or e" in run.output
    assert "Deployed" in run.output


def test_always_is_kept_in_the_file_meta_and_not_asked_again(cart: Path) -> None:
    first = repl("deploy", cart, [*DEPLOY_SETUP, "a"])
    assert first.asked == [APPROVE_Q]
    assert "execute_deployment will run without asking from now on" in first.output
    doc = read_session_file(cart)
    assert doc.meta["always_approve"] == ["execute_deployment"]
    assert "always_approve" not in doc.session  # the file's meta, not the session data

    second = repl("deploy", cart, DEPLOY_SETUP)
    assert second.asked == []
    assert "approve this call?" not in second.output
    assert "✅ Deployed api:1.4.2 to staging" in second.output
    assert read_session_file(cart).meta["always_approve"] == ["execute_deployment"]


def test_edit_rejects_bad_json_then_runs_valid_arguments(cart: Path) -> None:
    edits = [
        "e",
        CTRL_U + "{not json",
        "e",
        CTRL_U + "[1, 2]",
        "e",
        CTRL_U + '{"force": true}',
        "e",
        CTRL_U + "{}",
    ]
    run = repl("deploy", cart, [*DEPLOY_SETUP, *edits])
    assert run.asked == [APPROVE_Q, ARGS_Q] * 4
    assert "error: not JSON: Expecting property name enclosed in double quotes" in run.output
    assert "error: the arguments must be a JSON object" in run.output
    assert "error: execute_deployment: unknown argument 'force'" in run.output
    assert "✅ Deployed api:1.4.2 to staging" in run.output
    assert read_session_file(cart).session == {}


def test_edit_changes_the_arguments_the_tool_gets(cart: Path) -> None:
    run = repl(bank, cart, ["/transfer 100 bob", "e", CTRL_U + '{"amount": 5, "to": "bob"}'])
    assert "amount 100" in run.output.replace("amount  100", "amount 100")
    assert "sent 5 to bob" in run.output
    assert file_session(cart) == {"sent": [{"to": "bob", "amount": 5}]}


def test_edit_offers_the_current_arguments(cart: Path) -> None:
    run = repl(bank, cart, ["/transfer 100 bob", "e", ""])  # Enter keeps what is shown
    assert "sent 100 to bob" in run.output
    assert file_session(cart) == {"sent": [{"to": "bob", "amount": 100}]}


# -- missing arguments ------------------------------------------------------------------


def test_missing_arguments_are_asked_one_by_one(cart: Path) -> None:
    run = repl("shop", cart, ["add to cart", "Widget", "two", "3"])
    assert run.asked == ["item (string): ", "quantity (integer): ", "quantity (integer): "]
    assert "arguments needed" in run.output
    assert "needs item, quantity" in run.output
    assert "error: quantity: Input should be a valid integer" in run.output
    assert '▸ add_to_cart(item="Widget", quantity=3)' in run.output
    assert file_session(cart) == {"cart": [{"item": "Widget", "quantity": 3}]}


def test_missing_literal_is_asked_with_its_choices(cart: Path) -> None:
    run = repl("deploy", cart, ["start a deployment", "prod", "production"])
    assert run.asked == ["environment (staging/production): "] * 2
    assert "Input should be 'staging' or 'production'" in run.output
    deployment = file_session(cart)["deployment"]
    assert deployment == {"environment": "production", "step": "started", "services": []}


def test_ctrl_d_at_a_question_cancels_the_turn_not_the_repl(cart: Path) -> None:
    run = repl("shop", cart, ["add to cart", "Widget", CTRL_D, "/set note kept"])
    assert "turn cancelled: nothing changed, nothing saved" in run.output
    assert run.unused == []
    assert file_session(cart) == {"note": "kept"}
    assert read_session_file(cart).revision == 1


def test_ctrl_c_at_a_question_cancels_the_turn(cart: Path) -> None:
    run = repl("deploy", cart, [*DEPLOY_SETUP, CTRL_C, "/get deployment"])
    assert "turn cancelled: nothing changed, nothing saved" in run.output
    assert '"step": "services_added"' in run.output  # /get ran: the loop went on
    assert read_session_file(cart).revision == 2


# -- slash commands ---------------------------------------------------------------------


def test_undo_reverses_the_last_turns_and_saves(cart: Path) -> None:
    run = repl(
        "shop",
        cart,
        ["add 2 widgets", "add 3 gadgets", "/undo", "/undo 5", "/undo abc", "/get cart"],
    )
    out = run.output
    assert "undid turn 2\n" in out  # the words of `dcaf session undo`
    assert '- cart[1] {"item": "gadget", "quantity": 3}' in out
    assert f"saved {cart} (revision 3)" in out
    assert "error: cannot undo 5 turns" in out
    assert "error: usage: /undo [N]" in out
    assert out.rstrip().endswith('[{"item": "widget", "quantity": 2}]')
    doc = read_session_file(cart)
    assert doc.session == {"cart": [{"item": "widget", "quantity": 2}]}
    assert len(doc.turns) == 1
    assert len(doc.messages) == 2
    assert doc.revision == 3


def test_set_get_del_edit_the_session_as_turns(cart: Path) -> None:
    run = repl(
        "notes",
        cart,
        [
            "/set color blue",
            "/set n 2",
            '/set obj {"a": [1, "[b]"]}',
            "/get color",
            "/get obj",
            "/del color",
            "/get color",
            "/set",
        ],
    )
    out = run.output
    assert '+ color "blue"' in out
    assert f"saved {cart} (revision 1)" in out
    assert "+ n 2" in out
    assert '+ obj {"a": [1, "[b]"]}' in out
    assert '\n"blue"\n' in out
    assert '\n{"a": [1, "[b]"]}\n' in out
    assert '- color "blue"' in out
    assert f"saved {cart} (revision 4)" in out
    assert "error: the session has no key 'color'" in out
    assert "error: usage: /set KEY VALUE" in out
    doc = read_session_file(cart)
    assert doc.session == {"n": 2, "obj": {"a": [1, "[b]"]}}
    assert [t["kind"] for t in doc.turns] == ["edit"] * 4
    assert doc.turns[0]["input"] == "/set color blue"


def test_session_shows_a_tree_or_one_key(cart: Path) -> None:
    run = repl("shop", cart, ["add 2 widgets", "/set user ann", "/session", "/session user"])
    out = run.output
    assert 'session\n├── cart  [1]\n│   └── [0]  {2}\n│       ├── item: "widget"' in out
    assert '└── user: "ann"' in out
    tail = out[out.rindex("session\n") :]
    assert "user" in tail
    assert "cart" not in tail


def test_diff_shows_the_last_or_a_given_turn(cart: Path) -> None:
    run = repl("shop", cart, ["/diff", "add 2 widgets", "add 3 gadgets", "/diff", "/diff 1"])
    out = run.output
    assert "no turns yet" in out
    last = out[out.index("turn 2\n") :]
    assert last.startswith('turn 2\nsession:\n+ cart[1] {"item": "gadget", "quantity": 3}')
    first = out[out.index("turn 1\n") :]
    assert first.startswith('turn 1\nsession:\n+ cart [{"item": "widget", "quantity": 2}]')


def test_log_lists_every_turn(cart: Path) -> None:
    run = repl("shop", cart, ["add 2 widgets", "/set note hi", "/log"])
    log = run.output[run.output.rindex("#") :]
    assert "input" in log
    assert "tools" in log
    assert "changed" in log
    assert "add 2 widgets" in log
    assert "add_to_cart" in log
    assert "cart" in log
    assert "/set note hi" in log
    assert "note" in log


def test_tools_lists_names_arguments_and_approval(tmp_path: Path) -> None:
    run = repl("deploy", None, ["/tools"])
    out = run.output
    assert "start_deployment" in out
    assert "environment" in out
    assert "add_service" in out
    assert "service_name version" in out
    row = next(line for line in out.splitlines() if line.startswith("execute_deployment"))
    assert "asks" in row


def test_help_lists_every_command() -> None:
    run = repl("shop", None, ["/help"])
    for name in COMMANDS:
        assert name in run.output
    assert "Ctrl-D exits" in run.output


def test_model_shows_and_switches(cart: Path) -> None:
    run = repl("shop", cart, ["/model", "/model offline", "/model nonsense:x", "/model"])
    assert run.output.count("model: offline") == 3
    assert "error: unknown model 'nonsense:x'" in run.output


def test_clear_forgets_the_conversation_not_the_session(cart: Path) -> None:
    run = repl("shop", cart, ["add 2 widgets", "/clear", "/view_cart"])
    assert "conversation cleared" in run.output
    doc = read_session_file(cart)
    assert doc.session == {"cart": [{"item": "widget", "quantity": 2}]}
    assert [m["content"] for m in doc.messages if m["role"] == "user"] == ["/view_cart"]


def test_save_writes_an_in_memory_session_and_keeps_using_the_file(tmp_path: Path) -> None:
    target = tmp_path / "kept.json"
    run = repl("shop", None, ["add 2 widgets", f"/save {target}", "add 1 gadget", "/save"])
    out = run.output
    assert "an in-memory session (/save FILE keeps it)" in out
    assert "not saved: no session file (/save FILE keeps it)" in out
    assert f"saved {target} (revision 1)" in out
    assert f"saved {target} (revision 2)" in out
    assert "error: usage: /save FILE" in out
    doc = read_session_file(target)
    assert doc.session == {
        "cart": [{"item": "widget", "quantity": 2}, {"item": "gadget", "quantity": 1}]
    }
    assert len(doc.turns) == 2
    assert target.stat().st_mode & 0o777 == 0o600


def test_unsaved_in_memory_session_warns_on_exit() -> None:
    run = repl("shop", None, ["add 2 widgets"])
    assert run.output.rstrip().endswith(
        "the session was not saved (--no-save); /save FILE keeps one next time"
    )


def test_unknown_slash_command_is_one_line_and_the_loop_goes_on(cart: Path) -> None:
    run = repl("shop", cart, ["/frobnicate now", "/get nothing", "add 1 widget"])
    errors = [line for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: unknown command /frobnicate; /help lists the commands, /tools the tools",
        "error: the session has no key 'nothing' (its keys: none)",
    ]
    assert "Traceback" not in run.output
    assert f"saved {cart} (revision 1)" in run.output  # the next line still ran
    assert not run.unused


def test_exit_ends_the_loop(cart: Path) -> None:
    run = repl("shop", cart, ["/exit", "add 1 widget"])
    assert run.unused == ["add 1 widget"]
    assert not cart.exists()


def test_esc_enter_types_a_new_line(cart: Path) -> None:
    repl("notes", cart, ["/set poem roses\x1b\rviolets"])
    assert file_session(cart) == {"poem": "roses\nviolets"}


def test_toolbar_shows_file_revision_turns_model_and_approvals(cart: Path) -> None:
    from repl_helpers import SizedOutput, buffer_console

    from dcaf_cli.repl.app import Repl, make_prompt_session

    conversation = conversation_for("deploy", cart)
    try:
        conversation.approve_always("execute_deployment")
        prompt = make_prompt_session(output=SizedOutput(columns=300))
        repl_ = Repl(conversation, prompt, buffer_console()[0])
        text = to_plain_text(repl_.toolbar())
    finally:
        conversation.close()
    assert text == f" {cart} · rev 0 · 0 turns · offline · approvals: always: execute_deployment"


def test_a_file_changed_behind_the_repls_back_is_kept_until_reload(cart: Path) -> None:
    conversation = conversation_for("shop", cart)
    seen: dict[str, object] = {}

    def edit_the_file() -> str:
        doc = json.loads(cart.read_text())
        doc["session"]["note"] = "from an editor"
        cart.write_text(json.dumps(doc))
        seen["edited"] = cart.read_bytes()
        return "add 3 gadgets"

    def look() -> str:
        seen["unsaved"] = conversation.unsaved
        return "/reload"

    try:
        run = run_repl(
            conversation,
            ["add 2 widgets", edit_the_file, look, "/session", "add 1 gizmo"],
            width=300,
        )
    finally:
        conversation.close()
    out = run.output
    assert f"error: {cart} changed on disk since dcaf read it" in out
    assert (
        "nothing was overwritten — reload it, or save to another file (/reload or /save FILE)"
        in out
    )
    assert seen["unsaved"] is True
    assert "reloaded (revision 1)" in out
    assert 'note: "from an editor"' in out
    assert "gadget" not in out[out.index("reloaded") :]
    assert f"saved {cart} (revision 2)" in out
    doc = read_session_file(cart)
    assert doc.session == {
        "cart": [{"item": "widget", "quantity": 2}, {"item": "gizmo", "quantity": 1}],
        "note": "from an editor",
    }


# -- Ctrl-C and Ctrl-D ------------------------------------------------------------------


def _sigint_when_tool_starts() -> threading.Thread:
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        if slow_started.wait(timeout=15):
            signal.pthread_kill(main, signal.SIGINT)

    slow_started.clear()
    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_during_a_slow_tool_cancels_the_turn(cart: Path) -> None:
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    repl(slow, cart, ["/quick_add apple"])

    thread = _sigint_when_tool_starts()
    run = repl(slow, cart, ["/slow_add pear", "/session", "/quick_add plum"])
    thread.join(timeout=5)

    assert slow_started.is_set()
    out = run.output
    assert "turn cancelled: nothing changed, nothing saved" in out
    assert "too slow" not in out
    cancelled = out.index("turn cancelled")
    tree = out[cancelled:]
    assert '[0]: "apple"' in tree
    assert "pear" not in tree
    assert f"saved {cart} (revision 2)" in out  # and the loop took another turn
    doc = read_session_file(cart)
    assert doc.session == {"cart": ["apple", "plum"]}
    assert [t["input"] for t in doc.turns] == ["/quick_add apple", "/quick_add plum"]
    assert not any("pear" in json.dumps(m) for m in doc.messages)


def test_ctrl_c_leaves_the_file_byte_identical(cart: Path) -> None:
    repl(slow, cart, ["/quick_add apple"])
    before = cart.read_bytes()
    thread = _sigint_when_tool_starts()
    run = repl(slow, cart, ["/slow_add pear"])
    thread.join(timeout=5)
    assert "turn cancelled" in run.output
    assert cart.read_bytes() == before


def test_keyboard_interrupt_from_a_tool_rolls_back(cart: Path) -> None:
    repl(slow, cart, ["/quick_add apple"])
    before = cart.read_bytes()
    run = repl(slow, cart, ["/interrupted_add pear", "/get cart"])
    assert "turn cancelled: nothing changed, nothing saved" in run.output
    assert run.output.rstrip().endswith('["apple"]')
    assert cart.read_bytes() == before


def test_ctrl_c_at_the_prompt_clears_the_line(cart: Path) -> None:
    run = repl("shop", cart, ["add 2 widgets" + CTRL_C, "/session"])
    assert run.questions == ["› ", "› ", "› "]
    assert "▸ add_to_cart" not in run.output
    assert "└── (empty)" in run.output
    assert not cart.exists()


def test_ctrl_d_exits(cart: Path) -> None:
    run = repl("shop", cart, ["add 1 widget", CTRL_D, "add 2 widgets"])
    assert run.unused == ["add 2 widgets"]
    assert file_session(cart) == {"cart": [{"item": "widget", "quantity": 1}]}


def test_the_file_is_released_on_exit(cart: Path) -> None:
    repl("shop", cart, ["add 1 widget"])
    again = conversation_for("shop", cart)  # would raise SessionLockedError if still held
    again.close()


# -- the real builder: history under DCAF_HOME ------------------------------------------


def test_interactive_start_keeps_history_in_dcaf_home(
    cart: Path,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    import dcaf_cli.repl.app as repl_app
    from dcaf_cli.cli.chat import ChatSettings, start_chat

    real = repl_app.make_prompt_session
    with create_pipe_input() as pipe:

        def scripted(**kwargs: object) -> object:
            session = real(input=pipe, output=DummyOutput(), **kwargs)
            ScriptedPrompts(pipe, ["add 2 widgets", "/set a 1"]).install(session)
            return session

        monkeypatch.setattr(repl_app, "make_prompt_session", scripted)
        status = start_chat(ChatSettings(agent="shop", session=cart, model="offline"))
    assert status == 0
    assert history_file() == isolated_env / "history"
    history = (isolated_env / "history").read_text()
    assert "+add 2 widgets" in history
    assert "+/set a 1" in history
    shown = " ".join(capsys.readouterr().out.split())  # the real console wraps at 80 columns
    assert f"saved {cart} (revision 2)" in shown
    assert not (Path.home() / ".local").exists()


def test_user_dirs_point_into_tmp_path(tmp_path: Path) -> None:
    """The autouse fixture in conftest.py: HOME, XDG_* and DCAF_HOME are all temporary."""
    import os

    import platformdirs

    for var in ("HOME", "DCAF_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        assert os.environ[var].startswith(str(tmp_path)), var
    assert Path("~").expanduser().is_relative_to(tmp_path)
    assert Path(platformdirs.user_data_dir("dcaf")).is_relative_to(tmp_path)
    assert history_file().is_relative_to(tmp_path)


# -- completion -------------------------------------------------------------------------


def complete(conversation: Conversation, text: str) -> list[str]:
    completer = ReplCompleter(
        list(COMMANDS), lambda: conversation.agent.tools, conversation.session.keys
    )
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_completion_of_commands_tools_arguments_choices_and_keys(cart: Path) -> None:
    conversation = conversation_for("deploy", cart)
    try:
        conversation.session.set("deployment", {})
        conversation.session.set("deadline", "friday")
        assert complete(conversation, "/st") == ["/start_deployment"]
        assert complete(conversation, "/se") == ["/session", "/set", "/sessions"]
        assert complete(conversation, "/start_deployment en") == ["environment="]
        assert complete(conversation, "/start_deployment environment=") == [
            "environment=staging",
            "environment=production",
        ]
        assert complete(conversation, "/start_deployment environment=pr") == [
            "environment=production"
        ]
        assert complete(conversation, "/get de") == ["deadline", "deployment"]
        assert complete(conversation, "/del dep") == ["deployment"]
        assert complete(conversation, "start a deploy") == []
    finally:
        conversation.close()


def test_turns_from_before_clear_can_still_be_undone(cart: Path) -> None:
    run = repl("shop", cart, ["add 2 widgets", "/clear", "add 1 gadget", "/undo 2"])
    assert "error" not in run.output
    assert "undid turns 1, 2" in run.output
    doc = read_session_file(cart)
    assert doc.session == {}
    assert doc.messages == []
    assert doc.turns == []
