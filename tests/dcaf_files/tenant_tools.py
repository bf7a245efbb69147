"""Tools that read the platform context, as DCAF's tool guide shows them."""

from dcaf.core import Agent
from dcaf.tools import tool


@tool(
    schema={
        "name": "list_user_resources",
        "description": "List resources for the current user",
        "input_schema": {
            "type": "object",
            "properties": {
                "resource_type": {"type": "string", "enum": ["pods", "services", "deployments"]}
            },
            "required": ["resource_type"],
        },
    },
    requires_approval=False,
)
def list_user_resources(resource_type: str, platform_context: dict) -> str:
    tenant = platform_context.get("tenant_name", "default")
    namespace = platform_context.get("k8s_namespace", "default")
    return f"Found 5 {resource_type} in {tenant}/{namespace}"


@tool(description="Tag a resource")
def tag_resource(resource_id: str, **kwargs) -> str:
    tags = ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
    return f"Tagged {resource_id} with {tags or 'nothing'}"


agent = Agent(tools=[list_user_resources, tag_resource])
