"""A DCAF v1 agent: a class with `invoke(messages) -> AgentMessage`, served with
`create_chat_app`. It counts turns in the session and proposes a tool call for approval."""

from typing import Any, Dict, List

from dcaf.agent_server import AgentProtocol, create_chat_app
from dcaf.schemas.messages import AgentMessage, Data, ExecutedToolCall, ToolCall


class EchoAgent(AgentProtocol):
    def invoke(self, messages: Dict[str, List[Dict[str, Any]]]) -> AgentMessage:
        history = messages.get("messages", [])
        last = history[-1]
        data = last.get("data") or {}
        session = dict(data.get("session") or {})
        session["turns"] = session.get("turns", 0) + 1
        decided = [c for c in data.get("tool_calls", []) if c.get("execute")]
        if decided:
            done = [
                ExecutedToolCall(id=c["id"], name=c["name"], input=c["input"], output="restarted")
                for c in decided
            ]
            return AgentMessage(
                content="Restarted.", data=Data(executed_tool_calls=done, session=session)
            )
        if "restart" in last.get("content", ""):
            call = ToolCall(
                id="t1",
                name="restart",
                input={"service": "web"},
                tool_description="Restart a service",
                input_description={},
            )
            return AgentMessage(content="", data=Data(tool_calls=[call], session=session))
        return AgentMessage(content=f"Echo: {last.get('content', '')}", data=Data(session=session))


agent = EchoAgent()
app = create_chat_app(agent)
