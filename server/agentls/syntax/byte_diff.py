"""Where a new text's bytes differ from an old one's: the edits ``Tree.edit`` is told before a reparse.

Tree-sitter must hear of every changed byte (a node over a change it was not told about would be reused
stale), but the ranges need not be the smallest: a wider one costs a little more reparsing, no more. So this
is a cheap diff, not a minimal one, and every comparison in it runs in C:
- the common head and tail are found by galloping slice comparisons;
- a changed stretch larger than ``_SMALL`` bytes is cut at an anchor, a stretch of 64 bytes or more from a
  line start that occurs exactly once on each side (``bytes.find``), tried at the middle of the stretch
  first; each side of the anchor is diffed the same way;
- a stretch with no anchor (or too deep, or when the tries are used up) is one edit.
For 20 hunks spread over a 5,000-line file that is about a millisecond, where the line diff of the hunks
(``edits.lines``) takes 3-5 ms.

Ranges are cut at UTF-8 character boundaries, so each one replaces whole characters.
"""

from __future__ import annotations

from typing import NamedTuple

from agentls.edits.common_runs import common_head, common_tail

_SMALL = 2048  # bytes, both sides together: a changed stretch up to this size is one edit
_ANCHORS = (64, 256, 1024)  # bytes compared at an anchor: about two lines of code, more when they repeat
_PROBES = 400  # anchors tried per diff, at most
_MAX_DEPTH = 40


class ByteEdit(NamedTuple):
    """``old[old_start:old_end]`` became ``new[new_start:new_end]``; edits come sorted and apart."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int


def byte_edits(old: bytes, new: bytes) -> list[ByteEdit]:
    """The changed ranges that turn ``old`` into ``new`` (UTF-8); ``[]`` when they are equal."""
    diff = _Diff(old, new)
    diff.run(0, len(old), 0, len(new), 0)
    return diff.found


class _Diff:
    def __init__(self, old: bytes, new: bytes) -> None:
        self.old, self.new = old, new
        self.found: list[ByteEdit] = []
        self.probes = _PROBES  # anchors left to try

    def run(self, a0: int, a1: int, b0: int, b1: int, depth: int) -> None:
        """Append the edits from old[a0:a1] to new[b0:b1], in order."""
        old, new = self.old, self.new
        head = common_head(old, new, a0, a1, b0, b1)
        a0, b0 = a0 + head, b0 + head
        tail = common_tail(old, new, a0, a1, b0, b1)
        a1, b1 = a1 - tail, b1 - tail
        if a0 == a1 and b0 == b1:
            return
        if (a1 - a0) + (b1 - b0) > _SMALL and depth < _MAX_DEPTH:
            anchor = self.anchor(a0, a1, b0, b1)
            if anchor is not None:
                i, j, length = anchor
                self.run(a0, i, b0, j, depth + 1)
                self.run(i + length, a1, j + length, b1, depth + 1)
                return
        # Whole characters: back over UTF-8 continuation bytes at the start (in the head both texts share),
        # on over them at the end (in the tail both share).
        while 0 < a0 < len(old) and _continues(old, a0):
            a0, b0 = a0 - 1, b0 - 1
        while a1 < len(old) and _continues(old, a1):
            a1, b1 = a1 + 1, b1 + 1
        self.found.append(ByteEdit(a0, a1, b0, b1))

    def anchor(self, a0: int, a1: int, b0: int, b1: int) -> tuple[int, int, int] | None:
        """A stretch of old[a0:a1] that occurs once there and once in new[b0:b1]: where, and its length.

        Tried from line starts at the middle of old[a0:a1] outwards; a stretch that occurs more than once is
        tried longer (repetitive code), one that the new text does not have is given up. The tries over the
        whole diff are bounded, so that text without anchors costs some scans, not one per line.
        """
        old, new = self.old, self.new
        size = a1 - a0
        for eighth in (4, 3, 5, 2, 6, 1, 7):
            line = old.find(b"\n", a0 + size * eighth // 8, a1) + 1
            for length in _ANCHORS:
                if line <= 0 or line + length > a1 or self.probes <= 0:
                    break
                self.probes -= 1
                chunk = old[line : line + length]
                j = new.find(chunk, b0, b1)
                if j < 0:
                    break  # a longer stretch from here will not be found either
                once_in_new = new.find(chunk, j + 1, b1) < 0
                once_in_old = old.find(chunk, a0, line + length - 1) < 0 and old.find(chunk, line + 1, a1) < 0
                if once_in_new and once_in_old:
                    return line, j, length
        return None


def _continues(data: bytes, index: int) -> bool:
    return (data[index] & 0xC0) == 0x80
