from dcaf.core.tools import Tool, create_tool, tool

__all__ = ["Tool", "create_tool", "tool"]
