"""A conversation over a session file: run turns, record them, save after every one.

This is the core behind `dcaf run` (interactive or scripted) whatever the agent (local or
remote): the REPL and the scripted runner only read input and render `TurnReport`s. A
turn is all or nothing in memory (see `agent.complete_turn`) and is saved as soon as it
ends; if the save fails, the turn stays in memory, the file stays as it was, and the
report says so, so nothing is lost either way.
"""

from dcaf_cli.conversation.report import TurnReport
from dcaf_cli.conversation.service import Conversation, ModelLog

__all__ = ["Conversation", "ModelLog", "TurnReport"]
