"""Chat: the interactive loop (prompt-toolkit input, Rich output) and the scripted runner
(`-m`, piped stdin, `--json`)."""
