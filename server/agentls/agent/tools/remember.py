"""``remember``: the agent proposes a note for the project's memory; the user decides.

Nothing is written here. The proposed notes travel with the session's outcome; the editor asks the
user (``window/showMessageRequest``) and the CLI asks on the terminal (or takes ``--remember``), and
only an accepted note is appended to ``.agentls/memory.md`` (``agent.memory.append_note``).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from agentls.agent.tools.base import BaseTool, ToolContext, ToolInput, ToolResult

MAX_NOTE_CHARS = 500
MAX_NOTES = 3


class RememberInput(ToolInput):
    note: str = Field(description="One short, durable fact about this project, as a full sentence: a "
                                  "convention, where something lives, the command that runs the tests.")


class RememberTool(BaseTool[RememberInput]):
    name: ClassVar[str] = "remember"
    description: ClassVar[str] = (
        "Propose a note for the project's memory file (.agentls/memory.md), which is shown to agents in "
        "later sessions. Use it at most once or twice, at the end of a task, only for something durable "
        "you had to discover and a future session would need: a project convention, how to build or run "
        "the tests, where a kind of code lives. Not for what you just changed. The user accepts or "
        "declines each note; nothing is saved unless they accept."
    )
    read_only: ClassVar[bool] = True
    input_model = RememberInput

    def __init__(self) -> None:
        self.notes: list[str] = []

    async def execute(self, params: RememberInput, ctx: ToolContext) -> ToolResult:
        note = " ".join(params.note.split())
        if not note:
            return ToolResult("The note is empty.", is_error=True)
        if len(note) > MAX_NOTE_CHARS:
            return ToolResult(f"The note is {len(note)} characters; keep it under {MAX_NOTE_CHARS}.",
                              is_error=True)
        if len(self.notes) >= MAX_NOTES:
            return ToolResult(f"At most {MAX_NOTES} notes per session; this one was not proposed.", is_error=True)
        if note not in self.notes:
            self.notes.append(note)
        return ToolResult("Proposed. The user will decide whether to keep it when the session ends.")
