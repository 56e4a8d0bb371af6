"""Positions at the protocol edge: LSP (line, character) <-> code point offsets.

LSP counts ``character`` in the negotiated position encoding: UTF-16 code units unless the client
offered UTF-8 or UTF-32 and the server chose it (pygls negotiates; Neovim prefers UTF-8). The core
only ever sees Python ``str`` offsets. Line terminators are ``\\n``, ``\\r\\n`` and ``\\r`` as LSP defines
them (not ``str.splitlines``'s longer list): ``agentls.edits.lines.split_lines``, the rule edits use too.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from lsprotocol import types

from agentls.edits.lines import split_lines

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def _line_starts(text: str) -> list[int]:
    starts = list(accumulate(map(len, split_lines(text)), initial=0))
    # The end of the text starts a line (an empty last one) when it is empty or ends with a line break.
    return starts if not text or text[-1] in "\r\n" else starts[:-1]


def _units(segment: str, encoding: str) -> int:
    if encoding == UTF32 or segment.isascii():
        return len(segment)
    if encoding == UTF8:
        return len(segment.encode("utf-8"))
    return len(segment.encode("utf-16-le")) // 2


def _chars(segment: str, units: int, encoding: str) -> int:
    """How many code points of ``segment`` fit in ``units`` (rounding down inside a character)."""
    if encoding == UTF32 or segment.isascii():
        return min(units, len(segment))
    if encoding == UTF8:
        return len(segment.encode("utf-8")[:units].decode("utf-8", errors="ignore"))
    return len(segment.encode("utf-16-le")[: units * 2].decode("utf-16-le", errors="ignore"))


class LineIndex:
    """Line start offsets of a text, updated in place on edits."""

    __slots__ = ("_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = _line_starts(text)

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def _line_end(self, line: int) -> int:
        """Offset of the end of ``line``'s content (before its line break)."""
        if line + 1 >= len(self._starts):
            return len(self.text)
        end = self._starts[line + 1]
        if self.text[end - 1] == "\n":
            end -= 1
            if end > self._starts[line] and self.text[end - 1] == "\r":
                end -= 1
        elif self.text[end - 1] == "\r":
            end -= 1
        return end

    def offset(self, line: int, character: int, encoding: str = UTF16) -> int:
        """The code point offset of an LSP position; out-of-range positions clamp (as LSP asks)."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        segment = self.text[start : self._line_end(line)]
        return start + _chars(segment, max(character, 0), encoding)

    def position(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        """The LSP (line, character) of a code point offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return line, _units(self.text[start:offset], encoding)

    def replace(self, start: int, end: int, new_text: str) -> None:
        """Apply ``text[start:end] = new_text`` and update the line starts incrementally."""
        text = self.text
        self.text = text[:start] + new_text + text[end:]
        if "\r" in new_text or "\r" in text[max(start - 1, 0) : end + 1]:
            self._starts = _line_starts(self.text)
            return
        starts = self._starts
        first = bisect_right(starts, start)  # line starts after `start` are affected
        last = bisect_right(starts, end)  # ...and those up to `end` are removed
        delta = len(new_text) - (end - start)
        inserted = [start + m.end() for m in re.finditer("\n", new_text)]
        tail = starts[last:]
        if delta:
            tail = [p + delta for p in tail]
        starts[first:] = inserted + tail


def to_range(index: LineIndex, start: int, end: int, encoding: str = UTF16) -> types.Range:
    sl, sc = index.position(start, encoding)
    el, ec = index.position(end, encoding)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


def from_range(index: LineIndex, rng: types.Range, encoding: str = UTF16) -> tuple[int, int]:
    start = index.offset(rng.start.line, rng.start.character, encoding)
    end = index.offset(rng.end.line, rng.end.character, encoding)
    return (start, end) if start <= end else (end, start)


def encoding_name(kind: object) -> str:
    """Normalise pygls's negotiated ``PositionEncodingKind`` (or None) to one of our names."""
    value = getattr(kind, "value", kind)
    return value if value in (UTF8, UTF16, UTF32) else UTF16
