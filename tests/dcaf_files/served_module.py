"""DCAF's README pattern: build the agent and call `serve(agent)` at module level."""

from dcaf.core import Agent, serve, tool


@tool(description="Get current weather")
def get_weather(city: str) -> str:
    return f"Weather in {city}: Sunny, 72F"


weather_agent = Agent(tools=[get_weather])
serve(weather_agent)
