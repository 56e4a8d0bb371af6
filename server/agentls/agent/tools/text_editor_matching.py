"""Where a text editor edit applies: line endings, line offsets, exact occurrences, and the
whitespace-normalised match ``str_replace`` falls back to (trailing whitespace ignored, CRLF vs LF,
indentation shifted uniformly). Pure text, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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


def occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every occurrence, overlapping ones included."""
    found = []
    index = text.find(needle)
    while index != -1:
        found.append(index)
        index = text.find(needle, index + 1)
    return found


def line_start(text: str, line_index: int) -> int:
    """Offset where the (0-based) line ``line_index`` starts."""
    offset = 0
    for _ in range(line_index):
        offset = text.index("\n", offset) + 1
    return offset
