from typing import Any


class Session:
    def __init__(self, data=None):
        self._data = dict(data or {})

    def get(self, key, default=None):
        return self._data.get(key, default)

    def set(self, key, value):
        self._data[key] = value


class InterceptorError(Exception):
    def __init__(self, user_message: str, code=None, details=None):
        super().__init__(user_message)
        self.user_message, self.code, self.details = user_message, code, details or {}


class Agent:
    def __init__(
        self,
        tools=None,
        model="us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        provider="bedrock",
        framework="agno",
        system_prompt=None,
        system_context=None,
        model_config=None,
        request_interceptors=None,
        response_interceptors=None,
        on_interceptor_error="abort",
        aws_profile=None,
        aws_region=None,
        aws_access_key=None,
        aws_secret_key=None,
        api_key=None,
        google_project_id=None,
        google_location=None,
        name=None,
        description=None,
        system_events=None,
    ):
        self.tools = tools or []
        self.model, self.provider, self.framework = model, provider, framework
        self.system_prompt = system_prompt
        self._system_context = system_context
        self._request_interceptors = _as_list(request_interceptors)
        self._response_interceptors = _as_list(response_interceptors)
        self._aws_profile, self._aws_region, self._api_key = aws_profile, aws_region, api_key
        self.name = name or "dcaf-agent"
        self.description = description or system_prompt or "A DCAF agent"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return [value] if callable(value) else list(value)


def serve(agent: Any, port: int = 8000, **kwargs: Any) -> None:
    raise SystemExit("the stand-in DCAF server was started while a file loaded")


from dcaf.core.tools import tool  # noqa: E402

__all__ = ["Agent", "InterceptorError", "Session", "serve", "tool"]
