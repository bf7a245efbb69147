"""deploy: a multi-step deployment workflow whose last step needs approval.

Try: `start a deployment to staging`, `/add_service api 1.4.2`, `execute the deployment`.
"""

from __future__ import annotations

from typing import Literal

from dcaf_cli import Agent, Session, tool


@tool(description="Start a deployment workflow")
def start_deployment(environment: Literal["staging", "production"], session: Session) -> str:
    """Initialize a deployment workflow."""
    session.set("deployment", {"environment": environment, "step": "started", "services": []})
    return f"Deployment workflow started for {environment}. Add services to deploy."


@tool(description="Add a service to the deployment")
def add_service(service_name: str, version: str, session: Session) -> str:
    """Add a service to the pending deployment."""
    deployment = session.get("deployment")

    if not deployment:
        return "No deployment in progress. Run start_deployment first."

    deployment["services"].append({"name": service_name, "version": version})
    deployment["step"] = "services_added"
    session.set("deployment", deployment)

    count = len(deployment["services"])
    services = "1 service" if count == 1 else f"{count} services"
    return f"Added {service_name}:{version} to deployment. {services} total."


@tool(requires_approval=True, description="Execute the deployment")
def execute_deployment(session: Session) -> str:
    """Execute the pending deployment (requires approval)."""
    deployment = session.get("deployment")

    if not deployment:
        return "No deployment in progress."

    if not deployment.get("services"):
        return "No services to deploy. Add services first."

    env = deployment["environment"]
    results = [
        f"✅ Deployed {svc['name']}:{svc['version']} to {env}" for svc in deployment["services"]
    ]

    # Clear deployment state
    session.delete("deployment")

    return "\n".join(results)


agent = Agent(tools=[start_deployment, add_service, execute_deployment], name="deploy")
