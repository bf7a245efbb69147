"""The `script:` model: replies from a JSON or YAML file, `expect`, `error`, running out,
and one-line errors for files it cannot use."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fakes.models import write_script

from dcaf_cli import Agent
from dcaf_cli.errors import ModelError, UsageError
from dcaf_cli.examples import shop
from dcaf_cli.models import resolve_model
from dcaf_cli.models.base import Message, ModelRequest
from dcaf_cli.models.script import ScriptModel, load_script

ADD = {"name": "add_to_cart", "arguments": {"item": "Widget", "quantity": 2}}


def request(text: str = "hi") -> ModelRequest:
    return ModelRequest("", [Message("user", text)], [])


def complete(model: ScriptModel, text: str = "hi", on_text: Any = None) -> Any:
    return asyncio.run(model.complete(request(text), on_text))


def test_a_json_script_drives_a_turn(tmp_path: Path) -> None:
    path = write_script(
        tmp_path / "shop.json", [{"tool_calls": [ADD]}, {"text": "Added 2 widgets."}]
    )
    agent = Agent(tools=shop.agent.tools, model=f"script:{path}")
    response = agent.run([{"role": "user", "content": "add 2 widgets"}], session={})
    assert agent.model_name == f"script:{path}"
    assert response.text == "Added 2 widgets."
    assert response.session == {"cart": [{"item": "Widget", "quantity": 2}]}
    assert [c.id for c in response.executed_tool_calls] == ["script-1-1"]


def test_a_yaml_script_and_a_bare_list(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "- tool_calls:\n"
        "    - name: add_to_cart\n"
        "      arguments: {item: Gadget, quantity: 3}\n"
        "      id: call_a\n"
        "- text: Added 3 gadgets.\n",
        encoding="utf-8",
    )
    model = resolve_model(f"script:{path}")
    assert isinstance(model, ScriptModel)
    first = complete(model)
    assert [(c.id, c.name, c.arguments) for c in first.tool_calls] == [
        ("call_a", "add_to_cart", {"item": "Gadget", "quantity": 3})
    ]
    assert complete(model).text == "Added 3 gadgets."


def test_yml_suffix_is_yaml_too(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text("replies:\n  - text: hello\n", encoding="utf-8")
    assert load_script(path).replies[0].text == "hello"


def test_text_is_streamed_word_by_word_and_usage_is_counted(tmp_path: Path) -> None:
    model = ScriptModel(write_script(tmp_path / "s.json", [{"text": "Hello there, friend."}]))
    deltas: list[str] = []
    reply = complete(model, "one two three", deltas.append)
    assert deltas == ["Hello ", "there, ", "friend."]
    assert "".join(deltas) == reply.text
    assert reply.usage is not None
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (3, 3)


def test_expect_checks_the_last_user_message(tmp_path: Path) -> None:
    model = ScriptModel(
        write_script(
            tmp_path / "s.json",
            [{"expect": "WIDGETS", "text": "ok"}, {"expect": "checkout", "text": "never"}],
        )
    )
    assert complete(model, "add 2 widgets").text == "ok"  # case-insensitive
    with pytest.raises(ModelError) as info:
        complete(model, "what's in my cart?")
    message = str(info.value)
    assert "reply 2 expects a message with 'checkout'" in message
    assert '"what\'s in my cart?"' in message


def test_an_expect_mismatch_in_a_turn_rolls_it_back(tmp_path: Path) -> None:
    path = write_script(
        tmp_path / "s.json", [{"tool_calls": [ADD]}, {"expect": "nope", "text": "x"}]
    )
    response = Agent(tools=shop.agent.tools, model=ScriptModel(path)).run(
        [{"role": "user", "content": "add"}], session={"a": 1}
    )
    assert response.error is not None
    assert "expects a message with 'nope'" in response.error
    assert response.session == {"a": 1}


def test_error_replies_raise_model_errors(tmp_path: Path) -> None:
    model = ScriptModel(
        write_script(
            tmp_path / "s.json", [{"error": "rate limited; retry in 20 s"}, {"text": "after"}]
        )
    )
    with pytest.raises(ModelError, match=r"^rate limited; retry in 20 s$"):
        complete(model)
    assert complete(model).text == "after"  # the failing reply was used up


def test_running_out_of_replies_is_a_clear_error(tmp_path: Path) -> None:
    path = write_script(tmp_path / "s.json", [{"text": "only one"}])
    model = ScriptModel(path)
    complete(model)
    with pytest.raises(ModelError, match=r"has no reply left \(it has 1\)"):
        complete(model)


# -- files it cannot use -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "bad.json",
            "{\n  replies: []\n}",
            "is not valid JSON: Expecting property name enclosed in double quotes"
            " at line 2 column 3",
        ),
        ("bad.yaml", "replies:\n  - text: hi\n  - {oops", "is not valid YAML:"),
        ("scalar.json", "42", ": the top level: Input should be a valid dictionary"),
        (
            "noname.json",
            json.dumps({"replies": [{"tool_calls": [{}]}]}),
            ": replies.0.tool_calls.0.name: Field required",
        ),
        (
            "badtype.json",
            json.dumps([{"text": ["not", "text"]}]),
            ": replies.0.text: Input should be a valid string",
        ),
        ("missing.json", None, "cannot read model script"),
    ],
)
def test_bad_files_are_one_line_usage_errors(
    tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        resolve_model(f"script:{path}")
    message = str(info.value)
    assert "\n" not in message
    assert expected in message
    assert str(path) in message


def test_a_yaml_error_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("replies:\n  - text: hi\n  - {oops", encoding="utf-8")
    with pytest.raises(UsageError, match=r"at line \d+ column \d+$"):
        load_script(path)


def test_yaml_without_pyyaml_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- text: hi\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(UsageError) as info:
        load_script(path)
    assert "pip install 'dcaf-cli[yaml]'" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_file_fails_when_the_model_is_chosen_not_mid_turn(tmp_path: Path) -> None:
    agent = Agent(tools=shop.agent.tools, model=f"script:{tmp_path / 'gone.json'}")
    with pytest.raises(UsageError, match="cannot read model script"):
        agent.run([{"role": "user", "content": "hi"}])
