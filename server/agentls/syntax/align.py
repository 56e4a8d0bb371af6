"""Which parts of an old text survive unchanged in a new one, and where they went (code point offsets).

A line diff (difflib, after trimming the common head and tail, which is most of the file for an edit) finds
the unchanged lines; inside a small changed block a character diff finds what survived within the lines.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass
from itertools import accumulate

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
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_offsets = [0, *accumulate(len(line) for line in old_lines)]
    new_offsets = [0, *accumulate(len(line) for line in new_lines)]

    head = 0
    limit = min(len(old_lines), len(new_lines))
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1

    segments: list[tuple[int, int, int]] = []
    if head:
        segments.append((0, 0, old_offsets[head]))
    matcher = difflib.SequenceMatcher(
        None, old_lines[head : len(old_lines) - tail], new_lines[head : len(new_lines) - tail], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_start, old_end = old_offsets[head + i1], old_offsets[head + i2]
        new_start, new_end = new_offsets[head + j1], new_offsets[head + j2]
        if tag == "equal":
            segments.append((old_start, new_start, old_end - old_start))
        elif tag == "replace" and (old_end - old_start) + (new_end - new_start) <= _MAX_CHAR_DIFF:
            chars = difflib.SequenceMatcher(
                None, old[old_start:old_end], new[new_start:new_end], autojunk=False
            )
            segments.extend(
                (old_start + block.a, new_start + block.b, block.size)
                for block in chars.get_matching_blocks()
                if block.size >= _MIN_CHAR_MATCH
            )
    if tail:
        old_start, new_start = old_offsets[len(old_lines) - tail], new_offsets[len(new_lines) - tail]
        segments.append((old_start, new_start, len(old) - old_start))
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
