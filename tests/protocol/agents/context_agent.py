"""An agent with tools whose reply is the `context` its turn got (an interceptor blocks
the model call and answers with it)."""

import json

from dcaf.core import Agent, InterceptorError
from dcaf.tools import tool


@tool(description="Say hello")
def hello() -> str:
    return "hello"


def show_context(request):
    raise InterceptorError(json.dumps(request.context, sort_keys=True))


agent = Agent(tools=[hello], request_interceptors=[show_context])
