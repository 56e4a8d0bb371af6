"""What the text editor tool is and takes: its Anthropic type and name, its commands, the input
model, and ``EditError`` (a command that cannot be carried out as asked)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agentls.errors import AgentlsError

TOOL_TYPE = "text_editor_20250728"
TOOL_NAME = "str_replace_based_edit_tool"
COMMANDS = ("view", "create", "str_replace", "insert")


class TextEditorInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    command: str
    path: str
    view_range: list[int] | None = None
    file_text: str | None = None
    old_str: str | None = None
    new_str: str | None = None
    insert_line: int | None = None
    insert_text: str | None = None


class EditError(AgentlsError):
    """A command that cannot be carried out as asked (the message says why)."""
