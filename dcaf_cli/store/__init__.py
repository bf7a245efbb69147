"""The session file: its versioned format, the store (atomic durable saves, writer lock,
change detection), turn history and comparison, offline edits, validation and export.
"""
