"""The HelpDesk protocol: the wire shapes of requests, messages, tool calls and stream
events (encode and decode in one place), and the signing of approvals and sessions.

Shared by the runtime, the server and the `--url` client; knows nothing of HTTP.
"""
