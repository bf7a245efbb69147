"""Running one tool call: validate, inject the session, time it, turn any failure into a
result the model can read. Each call is its own transaction (see `Tool.ainvoke`)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from dcaf_cli.models.base import Message, ToolCall
from dcaf_cli.runtime.results import EventSink, ExecutedToolCall, ToolFinished, ToolStarted
from dcaf_cli.session.jsontext import scrub_text
from dcaf_cli.session.jsonvalue import to_json
from dcaf_cli.session.session import Session
from dcaf_cli.session.text import exception_line
from dcaf_cli.tools.tool import Tool


def format_output(result: Any) -> str:
    """A tool's return value as the text the model reads."""
    if isinstance(result, str):
        return result
    if result is None:
        return "done"
    try:
        return json.dumps(to_json(result, "result"), ensure_ascii=False)
    except TypeError:
        return str(result)


def exit_error(who: str, exc: SystemExit) -> str:
    """The failure of agent code that called `sys.exit`: it ends the call, not dcaf."""
    return f"{who} called sys.exit({exc.code!r}); agent code cannot end dcaf"


async def execute_call(
    call: ToolCall,
    tool: Tool[..., Any] | None,
    session: Session,
    sink: EventSink | None,
    context: Mapping[str, Any] | None = None,
) -> ExecutedToolCall:
    """Run `call` and record what happened. Errors become results, never exceptions;
    cancellation (Ctrl-C) propagates, after the tool's own changes are rolled back.
    `context` is the run's context, for a tool that declares `platform_context`."""
    if sink is not None:
        sink(ToolStarted(call.id, call.name, call.arguments))
    start = time.perf_counter()
    output, error = "", None
    if tool is None:
        error = f"there is no tool named {call.name!r}"
    else:
        try:
            output = format_output(await tool.ainvoke(call.arguments, session, context))
        except Exception as exc:
            error = exception_line(exc)
        except SystemExit as exc:  # a tool cannot end dcaf (or the server): it failed
            error = exit_error("the tool", exc)
        # Text that is not Unicode (a lone surrogate) could be neither shown nor saved.
        output, error = scrub_text([output, error])[0]
    record = ExecutedToolCall(
        id=call.id,
        name=call.name,
        input=dict(call.arguments),
        output=output if error is None else f"Error: {error}",
        duration_ms=(time.perf_counter() - start) * 1000,
        error=error,
    )
    if sink is not None:
        sink(ToolFinished(record))
    return record


def result_message(record: ExecutedToolCall) -> Message:
    return Message(
        "tool",
        record.output,
        tool_call_id=record.id,
        tool_name=record.name,
        is_error=record.error is not None,
    )
