"""An agent configured the way DCAF's provider examples configure one."""

from dcaf.core import Agent, tool


@tool(description="Get current weather", requires_approval=False)
def get_weather(city: str) -> str:
    return f"Weather in {city}: Sunny, 72F"


agent = Agent(
    provider="bedrock",
    model="us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    aws_region="us-west-2",
    tools=[get_weather],
    system_prompt="You are a weather assistant.",
    system_context=lambda ctx: f"Tenant: {ctx.get('tenant_name', 'none')}",
    description="Answers weather questions",
    model_config={"cache_system_prompt": True},
    framework="agno",
)
