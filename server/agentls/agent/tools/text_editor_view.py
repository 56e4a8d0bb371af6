"""The text editor's ``view`` command and its rendering: a file as ``cat -n`` shows it (a number
right-aligned in 6 columns, a tab, the line), optionally a ``view_range``, clipped at a character cap;
a directory as its files and directories up to 2 levels deep; the snippet shown after an edit."""

from __future__ import annotations

from agentls.agent.tools.base import ToolContext, ToolResult
from agentls.agent.tools.text_editor_input import EditError, TextEditorInput
from agentls.agent.workspace import path_key

SNIPPET_LINES = 4
#: Cap on what one ``view`` returns when the definition sets no ``max_characters``.
DEFAULT_VIEW_CHARS = 100_000
MAX_DIR_ENTRIES = 1_000


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


def view_path(params: TextEditorInput, ctx: ToolContext, max_characters: int | None) -> ToolResult:
    """The ``view`` command: a file as ``cat -n`` shows it (clipped at ``max_characters``), or a directory."""
    rel = ctx.overlay.key(params.path)
    if ctx.overlay.is_dir(rel):
        if params.view_range:
            raise EditError("The `view_range` parameter is not allowed when `path` points to a directory.")
        return ToolResult(view_dir(rel, ctx))
    limit = ctx.workspace.max_partial_bytes if params.view_range else None
    lines = display_lines(ctx.overlay.read(rel, max_bytes=limit))
    first = 1
    total = len(lines)
    if params.view_range is not None:
        first, last = check_range(params.view_range, total)
        lines = lines[first - 1 : last]
    if total == 0:
        return ToolResult(f"The file {rel} is empty.")
    body = numbered(lines, first)
    cap = max_characters or DEFAULT_VIEW_CHARS
    note = ""
    if len(body) > cap:
        cut = body.rfind("\n", 0, cap)
        body = body[: max(cut, 0)]
        shown = body.count("\n") + 1 if body else 0
        note = (
            f"\n<response clipped: showed lines {first}-{first + shown - 1} of {total}; use view_range to see the rest>"
        )
    return ToolResult(f"Here's the result of running `cat -n` on {rel}:\n{body}\n{note}".rstrip("\n") + "\n")


def check_range(view_range: list[int], total: int) -> tuple[int, int]:
    """``view_range`` checked against a file of ``total`` lines: 1-based, inclusive, ``-1`` = to the end."""
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


def view_dir(rel: str, ctx: ToolContext) -> str:
    """A directory's files and directories up to 2 levels deep, pending edits included, hidden ones left out."""
    workspace = ctx.workspace
    prefix = "" if rel == "." else rel + "/"

    def hidden(entry: str) -> bool:
        return any(part.startswith(".") for part in entry[len(prefix) :].rstrip("/").split("/"))

    entries = {entry for entry in workspace.iter_files(under=rel, max_depth=2, include_dirs=True) if not hidden(entry)}
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
    text = f"Here's the files and directories up to 2 levels deep in {where}, excluding hidden items:\n{shown}\n"
    if more > 0:
        text += f"({more} more entries not shown; view a subdirectory or use list_files with a glob)\n"
    if not listing:
        text = f"{where} has no files or directories (hidden and ignored ones are not shown).\n"
    return text


def edited_snippet(text: str, first_changed: int, last_changed: int) -> str:
    """The edited lines with ``SNIPPET_LINES`` of context either side, as ``cat -n`` shows them."""
    lines = display_lines(text)
    first = max(1, first_changed - SNIPPET_LINES)
    last = min(len(lines), last_changed + SNIPPET_LINES)
    body = numbered(lines[first - 1 : last], first)
    return f"Here's the result of running `cat -n` on a snippet of the edited file:\n{body}\n"
