"""The session layer: the `Session` key-value store, JSON values, diffs and JSON Patch,
key paths, and redaction of secrets.

Pure data, no I/O: everything above (tools, runtime, store, UI) builds on it.
"""
