"""Typed storage in the session, with the interceptors DCAF documents: one that blocks a
prompt injection with `InterceptorError(user_message, code=, details=)`, one that adds
context and counts requests, one that records the response."""

from pydantic import BaseModel

from dcaf.core import Agent, InterceptorError, LLMRequest, LLMResponse, Session
from dcaf.tools import tool


class Preferences(BaseModel):
    theme: str = "light"
    language: str = "en"


@tool(requires_approval=False, description="Set the user's theme")
def set_theme(theme: str, session: Session) -> str:
    prefs = session.get("prefs", as_type=Preferences) or Preferences()
    prefs.theme = theme
    session.set("prefs", prefs)
    return f"Theme is now {theme}."


@tool(requires_approval=False, description="Show the user's preferences")
def show_prefs(session: Session) -> str:
    prefs = session.get("prefs", as_type=Preferences) or Preferences()
    return f"theme={prefs.theme} language={prefs.language}"


def block_prompt_injection(request: LLMRequest) -> LLMRequest:
    if "ignore previous instructions" in request.get_latest_user_message().lower():
        raise InterceptorError(
            user_message="I'm sorry, I can't process this request.",
            code="PROMPT_INJECTION_BLOCKED",
            details={"blocked_pattern": "ignore previous instructions"},
        )
    return request


def add_user_context(request: LLMRequest) -> LLMRequest:
    tenant = request.context.get("tenant_name", "unknown")
    request.add_system_context(f"User's tenant: {tenant}")
    request.system = (request.system or "") + "\nBe brief."
    count = request.session.get("request_count", 0)
    request.session.set("request_count", count + 1)
    return request


def track_response(response: LLMResponse) -> LLMResponse:
    response.session.set("last_response_length", response.get_text_length())
    return response


agent = Agent(
    tools=[set_theme, show_prefs],
    request_interceptors=[block_prompt_injection, add_user_context],
    response_interceptors=track_response,
)
