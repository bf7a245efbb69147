"""The tools layer: the `@tool` decorator, reading a function's signature and docstring
into a JSON schema, and parsing `/tool_name k=v` slash calls.
"""
