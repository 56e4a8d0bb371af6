"""Anthropic's text editor tool (``text_editor_20250728``, named ``str_replace_based_edit_tool``).

The schema is Anthropic's (the model knows it); we implement its commands over the overlay, so
edits never touch the disk and every path goes through the workspace's safety checks:

- ``view``: a file as ``cat -n`` shows it (number right-aligned in 6 columns, a tab, the line),
  optionally ``view_range: [start, end]`` (1-based, inclusive, ``-1`` = to the end); a directory
  as the files and directories up to 2 levels deep, hidden and ignored ones left out.
- ``create``: a new file from ``file_text``; refused if the file exists.
- ``str_replace``: ``old_str`` must occur exactly once. When it does not occur verbatim we try a
  whitespace-normalised match (trailing whitespace ignored, CRLF vs LF, indentation shifted
  uniformly, in which case ``new_str`` is re-indented by the same shift) and apply it only when it
  is unique, saying so in the result. Never an ambiguous match.
- ``insert``: ``insert_text`` after line ``insert_line`` (0 = top of the file).
- ``undo_edit`` is not part of this version: an error says so.

Line endings are preserved: text the model sends with LF goes into a CRLF file as CRLF. Tabs are
kept as they are (the reference implementation expands them, which rewrites whole files).

This module holds the tool (definition, validation, dispatch) and the edit commands; ``view`` and
the ``cat -n`` rendering are in ``text_editor_view``, the matching in ``text_editor_matching``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from agentls.agent.tools.base import ToolContext, ToolResult, describe_validation_error, error_message
from agentls.agent.tools.text_editor_input import COMMANDS, TOOL_NAME, TOOL_TYPE, EditError, TextEditorInput
from agentls.agent.tools.text_editor_matching import fuzzy_find, line_ending, line_start, occurrences
from agentls.agent.tools.text_editor_view import display_lines, edited_snippet, view_path
from agentls.errors import AgentlsError

#: Still importable from here; they live in ``text_editor_input`` (the tool's type, name and input,
#: ``EditError``) and ``text_editor_matching`` (where an edit applies). ``view`` is in ``text_editor_view``.
__all__ = ["COMMANDS", "TOOL_NAME", "TOOL_TYPE", "EditError", "TextEditorInput", "TextEditorTool", "fuzzy_find"]

log = logging.getLogger(__name__)


class TextEditorTool:
    """``str_replace_based_edit_tool`` over the overlay."""

    name = TOOL_NAME
    read_only = False

    def __init__(self, max_characters: int | None = None) -> None:
        self.max_characters = max_characters

    def definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": TOOL_TYPE, "name": TOOL_NAME}
        if self.max_characters is not None:
            definition["max_characters"] = self.max_characters
        return definition

    def is_read_only_call(self, input: Mapping[str, Any]) -> bool:
        """``view`` changes nothing: the registry may run it alongside other reads."""
        return input.get("command") == "view"

    async def run(self, input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            params = TextEditorInput.model_validate(dict(input))
        except ValidationError as exc:
            return ToolResult(describe_validation_error(TOOL_NAME, exc), is_error=True)
        try:
            if ctx.read_through is not None and params.command in ("view", "str_replace", "insert", "create"):
                await _read_through(params.path, ctx)
            return self._dispatch(params, ctx)
        except (AgentlsError, OSError) as exc:
            return ToolResult(error_message(exc), is_error=True)

    def _dispatch(self, params: TextEditorInput, ctx: ToolContext) -> ToolResult:
        command = params.command
        if command == "view":
            return view_path(params, ctx, self.max_characters)
        if ctx.read_only and command in ("create", "str_replace", "insert"):
            raise EditError(f"Refused: `{command}` is a write, and this session is read-only (plan mode): "
                            "nothing may be changed now. Describe the change in the plan instead.")
        if command == "create":
            return self._create(params, ctx)
        if command == "str_replace":
            return self._str_replace(params, ctx)
        if command == "insert":
            return self._insert(params, ctx)
        if command == "undo_edit":
            raise EditError(
                "undo_edit is not available in this version of the text editor tool "
                f"({TOOL_TYPE}); to revert a change, use str_replace with the old text as new_str"
            )
        raise EditError(f"Unrecognized command {command!r}. The allowed commands are: {', '.join(COMMANDS)}")

    # -- create ----------------------------------------------------------------------------

    def _create(self, params: TextEditorInput, ctx: ToolContext) -> ToolResult:
        if params.file_text is None:
            raise EditError("Parameter `file_text` is required for command: create")
        rel = ctx.overlay.key(params.path)
        if ctx.overlay.is_dir(rel):
            raise EditError(f"{rel} is a directory; create needs the path of a new file")
        if ctx.overlay.exists(rel):
            raise EditError(
                f"File already exists at: {rel}. Cannot overwrite files using command `create`; "
                "use `str_replace` (or `insert`) to change it."
            )
        ctx.overlay.write(rel, params.file_text)
        ctx.record("file_written", tool=TOOL_NAME, path=rel, command="create")
        return ToolResult(f"File created successfully at: {rel}")

    # -- str_replace -----------------------------------------------------------------------

    def _str_replace(self, params: TextEditorInput, ctx: ToolContext) -> ToolResult:
        if params.old_str is None:
            raise EditError("Parameter `old_str` is required for command: str_replace")
        if params.old_str == "":
            raise EditError("Parameter `old_str` must not be empty: give the exact text to replace")
        rel = ctx.overlay.key(params.path)
        text = ctx.overlay.read(rel)
        eol = line_ending(text)
        convert = eol in ("\r\n", "\n")
        work = text.replace("\r\n", "\n") if eol == "\r\n" else text
        old = params.old_str.replace("\r\n", "\n") if convert else params.old_str
        new = (params.new_str or "").replace("\r\n", "\n") if convert else (params.new_str or "")
        if old == new:
            raise EditError("No replacement was performed: `old_str` and `new_str` are the same.")

        note = ""
        found = occurrences(work, old)
        if len(found) > 1:
            lines = [work.count("\n", 0, index) + 1 for index in found]
            raise EditError(
                f"No replacement was performed. Multiple occurrences of old_str in lines {lines}. "
                "Please ensure it is unique: include more surrounding lines in old_str."
            )
        if found:
            start, end, replacement = found[0], found[0] + len(old), new
        else:
            fuzzy = fuzzy_find(work, old)
            if not fuzzy:
                raise EditError(
                    f"No replacement was performed, old_str did not appear verbatim in {rel}. "
                    "View the file to copy the exact text (whitespace and indentation included)."
                )
            if len(fuzzy) > 1:
                lines = [match.line for match in fuzzy]
                raise EditError(
                    f"No replacement was performed. old_str did not appear verbatim in {rel}, and "
                    f"ignoring whitespace it matches in several places (lines {lines}); nothing was "
                    "changed. Copy the exact text, with more surrounding lines to make it unique."
                )
            match = fuzzy[0]
            start, end = match.start, match.end
            replacement = match.shift.apply(new)
            how = ["trailing whitespace ignored"]
            if match.shift.prefix:
                how.insert(0, f"{match.shift.describe()}, new_str re-indented to match")
            note = (
                f"Note: old_str did not appear verbatim; a whitespace-normalised match at lines "
                f"{match.line}-{match.last_line} was used ({'; '.join(how)}).\n"
            )
        updated = work[:start] + replacement + work[end:]
        if eol == "\r\n":
            updated = updated.replace("\n", "\r\n")
        ctx.overlay.write(rel, updated)
        ctx.record("file_written", tool=TOOL_NAME, path=rel, command="str_replace", normalised=bool(note))
        first_line = work.count("\n", 0, start) + 1
        snippet = edited_snippet(updated, first_line, first_line + replacement.count("\n"))
        return ToolResult(
            f"The file {rel} has been edited. {note}{snippet}"
            "Review the changes and make sure they are as expected. Edit the file again if necessary."
        )

    # -- insert ----------------------------------------------------------------------------

    def _insert(self, params: TextEditorInput, ctx: ToolContext) -> ToolResult:
        if params.insert_line is None:
            raise EditError("Parameter `insert_line` is required for command: insert")
        inserted = params.insert_text if params.insert_text is not None else params.new_str
        if inserted is None:
            raise EditError("Parameter `insert_text` is required for command: insert")
        rel = ctx.overlay.key(params.path)
        text = ctx.overlay.read(rel)
        total = len(display_lines(text))
        at = params.insert_line
        if at < 0 or at > total:
            raise EditError(
                f"Invalid `insert_line` parameter: {at}. It should be within the range of lines of the "
                f"file: [0, {total}]"
            )
        eol = line_ending(text)
        newline = "\r\n" if eol == "\r\n" else "\n"
        block = inserted.replace("\r\n", "\n")
        if newline != "\n":
            block = block.replace("\n", newline)
        if at < total:
            if not block.endswith(newline):
                block += newline
            offset = line_start(text, at)
            updated = text[:offset] + block + text[offset:]
        elif text and not text.endswith("\n"):  # after the last line, which has no newline: keep none
            updated = text + newline + (block[: -len(newline)] if block.endswith(newline) else block)
        else:
            if text and not block.endswith(newline):
                block += newline
            updated = text + block
        ctx.overlay.write(rel, updated)
        ctx.record("file_written", tool=TOOL_NAME, path=rel, command="insert")
        added = len(display_lines(block)) or 1
        snippet = edited_snippet(updated, at + 1, at + added)
        return ToolResult(
            f"The file {rel} has been edited. {snippet}"
            "Review the changes and make sure they are as expected (correct indentation, no duplicate "
            "lines, etc). Edit the file again if necessary."
        )


async def _read_through(path: str, ctx: ToolContext) -> None:
    """Start a file the session has not touched yet from the editor's text (unsaved typing), when the front end
    reads files through its editor (ACP's ``fs/read_text_file``); a file the editor does not have stays as on
    disk. Checked like any read: a path outside the workspace or deny-listed raises before asking."""
    assert ctx.read_through is not None
    rel = ctx.overlay.key(path)
    if rel in ctx.overlay.touched() or ctx.overlay.is_dir(rel):
        return
    ctx.workspace.resolve(rel)  # outside or denied: refused here, never read through the editor
    text = await ctx.read_through(rel)
    if text is not None and rel not in ctx.overlay.touched():
        ctx.overlay.seed(rel, text)
