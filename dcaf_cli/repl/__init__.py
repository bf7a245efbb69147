"""The interactive chat loop (prompt-toolkit input, Rich output)."""
