"""The floor: the least a FastAPI server does for the session guide's counter agent.

It parses the body, bumps `call_count` in the last user message's `data.session`, and
answers in the shape of `dcaf serve`'s `POST /api/chat`. The server benchmark measures
`dcaf serve` against it: `uvicorn benchmarks.floor_app:app`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/chat")
async def chat(body: dict[str, Any]) -> dict[str, Any]:
    last = [m for m in body["messages"] if m.get("role") == "user"][-1]
    session = dict((last.get("data") or {}).get("session") or {})
    session["call_count"] = session.get("call_count", 0) + 1
    session["last_message"] = last["content"]
    data = {
        "tool_calls": [],
        "executed_tool_calls": [],
        "approvals": [],
        "executed_approvals": [],
        "session": session,
    }
    reply = f"This is call #{session['call_count']}"
    return {"role": "assistant", "content": reply, "data": data, "meta_data": {}}
