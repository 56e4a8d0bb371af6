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
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from agentls.agent.tools.base import ToolContext, ToolResult, describe_validation_error, error_message
from agentls.agent.workspace import path_key
from agentls.errors import AgentlsError

log = logging.getLogger(__name__)

TOOL_TYPE = "text_editor_20250728"
TOOL_NAME = "str_replace_based_edit_tool"
COMMANDS = ("view", "create", "str_replace", "insert")
SNIPPET_LINES = 4
#: Cap on what one ``view`` returns when the definition sets no ``max_characters``.
DEFAULT_VIEW_CHARS = 100_000
MAX_DIR_ENTRIES = 1_000


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


# -- text helpers ------------------------------------------------------------------------------


def display_lines(text: str) -> list[str]:
    """The lines ``cat -n`` shows: no terminators, no extra empty line after a final newline."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def numbered(lines: list[str], first: int = 1) -> str:
    return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines, first))


def line_ending(text: str) -> Literal["\r\n", "\n", "mixed", "none"]:
    crlf = text.count("\r\n")
    lf = text.count("\n")
    if lf == 0:
        return "none"
    if crlf == lf:
        return "\r\n"
    return "\n" if crlf == 0 else "mixed"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


@dataclass(frozen=True)
class Shift:
    """A uniform indentation change: ``prefix`` added to (or removed from) every non-blank line."""

    direction: Literal["add", "remove"]
    prefix: str

    def apply(self, text: str) -> str:
        if not self.prefix:
            return text
        out = []
        for line in text.split("\n"):
            if not line.strip():
                out.append(line)
            elif self.direction == "add":
                out.append(self.prefix + line)
            elif line.startswith(self.prefix):
                out.append(line[len(self.prefix) :])
            else:  # less indented than the shift: remove what indentation there is
                ws = _indent(line)
                out.append(line[min(len(ws), len(self.prefix)) :])
        return "\n".join(out)

    def describe(self) -> str:
        sign = "+" if self.direction == "add" else "-"
        if set(self.prefix) == {" "}:
            unit = "space" if len(self.prefix) == 1 else "spaces"
        elif set(self.prefix) == {"\t"}:
            unit = "tab" if len(self.prefix) == 1 else "tabs"
        else:
            return f"indentation {'added' if sign == '+' else 'removed'}: {self.prefix!r}"
        return f"indentation shifted by {sign}{len(self.prefix)} {unit}"


@dataclass(frozen=True)
class FuzzyMatch:
    start: int  # offsets in the text searched
    end: int
    line: int  # 1-based first line
    last_line: int
    shift: Shift


def _line_shift(file_line: str, old_line: str) -> Shift | None:
    f, o = file_line.rstrip(), old_line.rstrip()
    f_ws, o_ws = _indent(f), _indent(o)
    if f[len(f_ws) :] != o[len(o_ws) :]:
        return None
    if f_ws.endswith(o_ws):
        return Shift("add", f_ws[: len(f_ws) - len(o_ws)])
    if o_ws.endswith(f_ws):
        return Shift("remove", o_ws[: len(o_ws) - len(f_ws)])
    return None


def fuzzy_find(text: str, old: str) -> list[FuzzyMatch]:
    """Whole-line matches of ``old`` in ``text`` ignoring trailing whitespace (``\\r`` included)
    and a uniform indentation shift. ``text`` and ``old`` use ``\\n`` line breaks."""
    trailing_newline = old.endswith("\n")
    old_lines = (old[:-1] if trailing_newline else old).split("\n")
    if not any(line.strip() for line in old_lines):
        return []
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    file_lines = text.split("\n")
    if trailing_newline and file_lines and file_lines[-1] == "":
        file_lines.pop()  # a final newline ends the last line; it is not an empty line to match
    matches = []
    size = len(old_lines)
    for first in range(len(file_lines) - size + 1):
        shift: Shift | None = None
        for file_line, old_line in zip(file_lines[first : first + size], old_lines, strict=True):
            if not old_line.strip() or not file_line.strip():
                if old_line.strip() or file_line.strip():
                    break
                continue
            line_shift = _line_shift(file_line, old_line)
            if line_shift is None or (shift is not None and line_shift != shift):
                break
            shift = line_shift
        else:
            last = first + size - 1
            end = starts[last] + len(file_lines[last])
            if trailing_newline and end < len(text):
                end += 1
            matches.append(FuzzyMatch(starts[first], end, first + 1, last + 1, shift or Shift("add", "")))
    return matches


def _occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every occurrence, overlapping ones included."""
    found = []
    index = text.find(needle)
    while index != -1:
        found.append(index)
        index = text.find(needle, index + 1)
    return found


# -- the tool ----------------------------------------------------------------------------------


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
            return self._dispatch(params, ctx)
        except (AgentlsError, OSError) as exc:
            return ToolResult(error_message(exc), is_error=True)

    def _dispatch(self, params: TextEditorInput, ctx: ToolContext) -> ToolResult:
        command = params.command
        if command == "view":
            return self._view(params, ctx)
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

    # -- view ------------------------------------------------------------------------------

    def _view(self, params: TextEditorInput, ctx: ToolContext) -> ToolResult:
        rel = ctx.overlay.key(params.path)
        if ctx.overlay.is_dir(rel):
            if params.view_range:
                raise EditError(
                    "The `view_range` parameter is not allowed when `path` points to a directory."
                )
            return ToolResult(self._view_dir(rel, ctx))
        limit = ctx.workspace.max_partial_bytes if params.view_range else None
        lines = display_lines(ctx.overlay.read(rel, max_bytes=limit))
        first = 1
        total = len(lines)
        if params.view_range is not None:
            first, last = self._check_range(params.view_range, total)
            lines = lines[first - 1 : last]
        if total == 0:
            return ToolResult(f"The file {rel} is empty.")
        body = numbered(lines, first)
        cap = self.max_characters or DEFAULT_VIEW_CHARS
        note = ""
        if len(body) > cap:
            cut = body.rfind("\n", 0, cap)
            body = body[: max(cut, 0)]
            shown = body.count("\n") + 1 if body else 0
            note = (
                f"\n<response clipped: showed lines {first}-{first + shown - 1} of {total}; "
                "use view_range to see the rest>"
            )
        return ToolResult(
            f"Here's the result of running `cat -n` on {rel}:\n{body}\n{note}".rstrip("\n") + "\n"
        )

    @staticmethod
    def _check_range(view_range: list[int], total: int) -> tuple[int, int]:
        if len(view_range) != 2:
            raise EditError("Invalid `view_range`. It should be a list of two integers: [start, end].")
        first, last = view_range
        if total == 0:
            raise EditError("Invalid `view_range`: the file is empty.")
        if first < 1 or first > total:
            raise EditError(
                f"Invalid `view_range`: {view_range}. Its first element `{first}` should be within the "
                f"range of lines of the file: [1, {total}]"
            )
        if last == -1 or last > total:
            last = total
        elif last < first:
            raise EditError(
                f"Invalid `view_range`: {view_range}. Its second element `{last}` should be -1 or at "
                f"least its first `{first}`"
            )
        return first, last

    def _view_dir(self, rel: str, ctx: ToolContext) -> str:
        workspace = ctx.workspace
        prefix = "" if rel == "." else rel + "/"

        def hidden(entry: str) -> bool:
            return any(part.startswith(".") for part in entry[len(prefix) :].rstrip("/").split("/"))

        entries = {
            entry
            for entry in workspace.iter_files(under=rel, max_depth=2, include_dirs=True)
            if not hidden(entry)
        }
        for path, text in ctx.overlay.touched().items():
            if text is None:
                entries.discard(path)
                continue
            below = path[len(prefix) :].split("/") if path.startswith(prefix) else []
            if 1 <= len(below) <= 2 and not hidden(path) and workspace.shown_under(rel, path):
                entries.add(path)
                if len(below) == 2:
                    entries.add(prefix + below[0] + "/")
        listing = sorted(entries, key=lambda entry: path_key(entry.rstrip("/")))
        more = len(listing) - MAX_DIR_ENTRIES
        shown = "\n".join(listing[:MAX_DIR_ENTRIES])
        where = "the workspace root" if rel == "." else rel
        text = (
            f"Here's the files and directories up to 2 levels deep in {where}, "
            f"excluding hidden items:\n{shown}\n"
        )
        if more > 0:
            text += f"({more} more entries not shown; view a subdirectory or use list_files with a glob)\n"
        if not listing:
            text = f"{where} has no files or directories (hidden and ignored ones are not shown).\n"
        return text

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
        found = _occurrences(work, old)
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
        snippet = self._snippet(updated, first_line, first_line + replacement.count("\n"))
        return ToolResult(
            f"The file {rel} has been edited. {note}{snippet}"
            "Review the changes and make sure they are as expected. Edit the file again if necessary."
        )

    @staticmethod
    def _snippet(text: str, first_changed: int, last_changed: int) -> str:
        lines = display_lines(text)
        first = max(1, first_changed - SNIPPET_LINES)
        last = min(len(lines), last_changed + SNIPPET_LINES)
        body = numbered(lines[first - 1 : last], first)
        return f"Here's the result of running `cat -n` on a snippet of the edited file:\n{body}\n"

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
            offset = _line_start(text, at)
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
        snippet = self._snippet(updated, at + 1, at + added)
        return ToolResult(
            f"The file {rel} has been edited. {snippet}"
            "Review the changes and make sure they are as expected (correct indentation, no duplicate "
            "lines, etc). Edit the file again if necessary."
        )


def _line_start(text: str, line_index: int) -> int:
    """Offset where the (0-based) line ``line_index`` starts."""
    offset = 0
    for _ in range(line_index):
        offset = text.index("\n", offset) + 1
    return offset
