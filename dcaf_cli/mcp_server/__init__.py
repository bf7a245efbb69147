"""`dcaf mcp`: an agent's tools served over the Model Context Protocol (the `mcp` extra).

Every call runs on the session of one session file, through the conversation (the same
writer lock, saving, history and undo as `dcaf run`), so `dcaf session log` shows what an
MCP client did, call by call.
"""
