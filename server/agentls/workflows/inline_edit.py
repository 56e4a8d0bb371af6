"""An inline edit: the agent loop scoped to a selection, started from the editor's buffer."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from agentls.edits.lines import split_lines

#: Lines of the file shown around the selection in the first message.
CONTEXT_LINES = 30

DOCUMENT = "Write or improve the documentation of the selected code (docstrings or doc comments in the " \
           "language's usual style). Do not change behaviour."
ADD_TESTS = "Add tests for the selected code, in the project's existing test style and location " \
            "(look for existing tests first). Do not change the selected code."


@dataclass(frozen=True)
class EditTarget:
    path: str  # workspace-relative
    text: str  # the buffer when the command arrived
    start: int
    end: int
    instruction: str


def _numbered(lines: list[str], first: int) -> str:
    return "".join(f"{n:6}\t{line}" for n, line in enumerate(lines, start=first))


def edit_prompt(target: EditTarget, context: str = "") -> str:
    """The first message of an edit session: the instruction, the selection and its surroundings, and
    the context engine's parts (enclosing scopes, imports, definitions used, repo map) when given."""
    text = target.text
    lines = split_lines(text) or [""]
    ends = list(accumulate(len(line) for line in lines))  # the offset after each line, its break included
    first = bisect_right(ends, target.start)  # 0-based
    last = bisect_right(ends, max(target.end - 1, target.start)) if target.end > target.start else first
    lo, hi = max(0, first - CONTEXT_LINES), min(len(lines), last + 1 + CONTEXT_LINES)
    selection = text[target.start:target.end]
    whole = lo == 0 and hi == len(lines)
    shown = "the whole file" if whole else f"lines {lo + 1}-{hi} of {len(lines)}"
    return (
        f"Edit `{target.path}` as follows:\n<instruction>\n{target.instruction.strip()}\n</instruction>\n\n"
        f"The user selected lines {first + 1}-{last + 1}:\n<selection>\n{selection}"
        f"{'' if selection.endswith(chr(10)) else chr(10)}</selection>\n\n"
        f"Context from the editor ({shown}; this is the current text, which may not be saved yet):\n"
        f"<file path=\"{target.path}\">\n{_numbered(lines[lo:hi], lo + 1)}</file>\n\n"
        + (f"Context gathered from the workspace (read-only; the definitions are current):\n{context}\n\n"
           if context.strip() else "")
        + f"Change only what the instruction needs, preferably inside the selection, using "
        f"str_replace_based_edit_tool on `{target.path}`. You may view or search other files for context. "
        f"Then reply with a one-sentence summary."
    )


def fix_instruction(messages: list[str]) -> str:
    listed = "\n".join(f"- {m}" for m in messages)
    return f"Fix these problems reported by the editor:\n{listed}"
