"""Which parts of an old text survive unchanged in a new one, and where they went (code point offsets).

The line diff of the edits (``agentls.edits.lines.changes``: the common head and tail trimmed, which is most
of the file for an edit) finds the unchanged lines; inside a small changed block a character diff finds what
survived within the lines.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass

from agentls.edits.lines import changes

# A character diff of a changed block is quadratic at worst: only small blocks get one.
_MAX_CHAR_DIFF = 4000
# A single matching character inside a changed block is more likely a coincidence than a survivor.
_MIN_CHAR_MATCH = 2


@dataclass(frozen=True)
class Alignment:
    """Unchanged stretches ``(old_start, new_start, length)``, in order, between an old and a new text."""

    segments: tuple[tuple[int, int, int], ...]
    old_length: int
    new_length: int

    def map(self, position: int) -> int | None:
        """Where an old position went: None when the character there was changed or deleted.

        The end of the text maps to the end of the text when the text ends unchanged.
        """
        index = bisect.bisect_right(self.segments, position, key=lambda segment: segment[0]) - 1
        if index >= 0:
            old_start, new_start, length = self.segments[index]
            if position < old_start + length or position == old_start + length == self.old_length:
                return new_start + position - old_start
        return None

    def touches_change(self, start: int, end: int) -> bool:
        """Whether the new range [start, end) overlaps inserted text or borders a deletion."""
        previous_old = previous_new = 0
        for old_start, new_start, length in (*self.segments, (self.old_length, self.new_length, 0)):
            if old_start > previous_old or new_start > previous_new:  # a change between two segments
                if new_start > previous_new:
                    if start < new_start and previous_new < end:
                        return True
                elif start <= new_start <= end:
                    return True
            if new_start >= end:
                break
            previous_old, previous_new = old_start + length, new_start + length
        return False


def align(old: str, new: str) -> Alignment:
    """The unchanged stretches between two texts."""
    segments: list[tuple[int, int, int]] = []
    old_at = new_at = 0  # the end of the last change in each text
    for change in changes(old, new):
        if change.old_start > old_at:
            segments.append((old_at, new_at, change.old_start - old_at))
        old_size, new_size = change.old_end - change.old_start, change.new_end - change.new_start
        if old_size and new_size and old_size + new_size <= _MAX_CHAR_DIFF:
            chars = difflib.SequenceMatcher(
                None, old[change.old_start : change.old_end], new[change.new_start : change.new_end], autojunk=False
            )
            segments.extend(
                (change.old_start + block.a, change.new_start + block.b, block.size)
                for block in chars.get_matching_blocks()
                if block.size >= _MIN_CHAR_MATCH
            )
        old_at, new_at = change.old_end, change.new_end
    if old_at < len(old):
        segments.append((old_at, new_at, len(old) - old_at))
    return Alignment(tuple(_coalesce(segments)), len(old), len(new))


def _coalesce(segments: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Adjacent segments joined into one, so that a change is always a gap between two segments."""
    joined: list[tuple[int, int, int]] = []
    for old_start, new_start, length in segments:
        if joined:
            last_old, last_new, last_length = joined[-1]
            if last_old + last_length == old_start and last_new + last_length == new_start:
                joined[-1] = (last_old, last_new, last_length + length)
                continue
        joined.append((old_start, new_start, length))
    return joined
