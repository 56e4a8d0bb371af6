"""Hunks: the minimal whole-line changes between two texts, and applying any of them.

A hunk covers whole lines of the text it was made from: ``start`` and ``end`` are line starts (or the end of
the text), ``old_text`` is ``text[start:end]`` and ``new_text`` the lines that replace it, line endings
(``\\n``, ``\\r\\n``, ``\\r``) kept exactly as the new text has them. ``start == end`` is a pure insertion,
``new_text == ""`` a pure deletion. A text without a final line ending is handled as git does: its last line
differs from the same line with an ending, so adding or removing the final newline changes that line.

Hunks of one diff are separated by at least one unchanged line, so each applies on its own: any subset of
them gives the text with just those changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentls.edits.lines import changes

__all__ = ["Hunk", "apply_hunks", "diff_hunks", "line_range"]


@dataclass(frozen=True)
class Hunk:
    """``text[start:end]`` (== ``old_text``) becomes ``new_text``; offsets are code points into that text."""

    id: str
    start: int
    end: int
    old_text: str
    new_text: str


def diff_hunks(base: str, after: str) -> list[Hunk]:
    """The hunks that turn ``base`` into ``after``, ids ``h1``, ``h2``... in document order; ``[]`` if equal."""
    return [
        Hunk(
            f"h{number}",
            change.old_start,
            change.old_end,
            base[change.old_start : change.old_end],
            after[change.new_start : change.new_end],
        )
        for number, change in enumerate(changes(base, after), start=1)
    ]


def apply_hunks(text: str, hunks: Sequence[Hunk]) -> str:
    """``text`` with the hunks applied; their offsets refer to ``text``, they may come in any order.

    Raises ValueError when a hunk's ``old_text`` is not what ``text`` holds at its offsets, or when two hunks
    overlap (two insertions at the same offset are applied in the order given).
    """
    ordered = sorted(hunks, key=lambda hunk: (hunk.start, hunk.end))
    pieces: list[str] = []
    position = 0
    for hunk in ordered:
        if hunk.start < position:
            raise ValueError(f"hunk {hunk.id} overlaps another hunk at offset {hunk.start}")
        check_hunk(text, hunk)
        pieces += (text[position : hunk.start], hunk.new_text)
        position = hunk.end
    pieces.append(text[position:])
    return "".join(pieces)


def check_hunk(text: str, hunk: Hunk) -> None:
    """Raise ValueError unless ``hunk`` fits ``text``: offsets in range and ``old_text`` at them."""
    if not 0 <= hunk.start <= hunk.end <= len(text) or text[hunk.start : hunk.end] != hunk.old_text:
        raise ValueError(f"hunk {hunk.id} does not match the text at offsets {hunk.start}..{hunk.end}")


def line_range(text: str, start: int, end: int) -> tuple[int, int]:
    """The 0-based line of ``start`` and the line of ``end`` (lines end in ``\\n``, ``\\r\\n`` or ``\\r``).

    For a hunk, ``end`` is a line start, so the hunk covers lines ``[first, last)``: the LSP range
    ``(first, 0)..(last, 0)``, except when ``end == len(text)`` and the text has no final line ending: then
    ``last`` is the last line itself and the range ends at that line's end, not at its start. An offset
    between a ``\\r`` and its ``\\n`` is on the line the ``\\r`` ends.
    """
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"offsets {start}..{end} are outside the text (length {len(text)})")
    return _line_of(text, start), _line_of(text, end)


def _line_of(text: str, offset: int) -> int:
    line = text.count("\n", 0, offset) + text.count("\r", 0, offset) - text.count("\r\n", 0, offset)
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        line -= 1
    return line
