"""Line splitting and the line diff (code point offsets throughout): one rule and one diff for the code base.

``split_lines`` is the rule wherever lines must agree with the editor's (hunks, LSP positions, line numbers
people type); ``changes`` is the line diff of ``hunks``, ``rebase`` and ``syntax.align``.

Lines end in ``\\r\\n``, ``\\n`` or a lone ``\\r``, as LSP counts them (not ``str.splitlines``, which also
breaks on form feeds, ``\\x85``, ``\\u2028``...). The last line may have no ending.

The diff trims the common head and tail of the two texts first (character comparisons in C, rounded to line
starts), so an edit to a large file costs about the size of the region it touched. What is left goes to
``difflib.SequenceMatcher`` (autojunk off) when it is small; a large region is first cut by patience anchors
(lines that occur exactly once on each side, in their longest increasing run) into gaps, each trimmed and
diffed the same way. The matcher is quadratic in repeated lines (blank lines, ``}``): on a 5,000-line Python
file with 20 edits spread over it, about 90 ms alone against 4 ms with the anchors. On small regions the
matcher's longest-block-first alignment is the better one when lines repeat (a unique line that moved would
otherwise be chosen as the anchor over a longer run of common lines), which is why they are not anchored.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from typing import NamedTuple

from agentls.edits.common_runs import common_head, common_tail

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_EOL = re.compile(r"\r\n|\r|\n")
# Characters ``str.splitlines`` breaks on that LSP does not: when a text has none, splitlines is exact.
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
# Ranges of at most this many lines (both sides together) go to SequenceMatcher directly: its longest
# common block first is the better alignment when lines repeat, and its quadratic worst case stays small.
_SMALL = 400
# Deeper than this, a gap is handed to SequenceMatcher instead of being anchored again.
_MAX_DEPTH = 64


class Change(NamedTuple):
    """Lines ``old[old_start:old_end]`` became ``new[new_start:new_end]``: offsets at line starts (or the end).

    Changes come sorted and separated by at least one unchanged line. ``old_start == old_end`` is a pure
    insertion, ``new_start == new_end`` a pure deletion.
    """

    old_start: int
    old_end: int
    new_start: int
    new_end: int


def split_lines(text: str) -> list[str]:
    """The lines of a text, each with its ending (the last one may have none); ``""`` has no lines."""
    if not any(c in text for c in _OTHER_BREAKS):
        return text.splitlines(keepends=True)
    return _LINE.findall(text)


def line_end(text: str, position: int) -> int:
    """The start of the line after the one holding ``position`` (``len(text)`` on the last line)."""
    match = _EOL.search(text, position)
    return len(text) if match is None else match.end()


def previous_line_start(text: str, position: int) -> int:
    """The start of the line before the line that starts at ``position`` (0 when there is none)."""
    index = position - 1
    if index < 0:
        return 0
    if text[index] == "\n" and index > 0 and text[index - 1] == "\r":
        index -= 1
    while index > 0 and text[index - 1] not in "\r\n":
        index -= 1
    return index


def changes(old: str, new: str) -> list[Change]:
    """The changed line blocks that turn ``old`` into ``new``; ``[]`` when the texts are equal."""
    if old == new:
        return []
    head = _line_start_before(old, common_head(old, new, 0, len(old), 0, len(new)))
    old_end, new_end = _common_tail_start(old, new, head)
    old_lines = split_lines(old[head:old_end])
    new_lines = split_lines(new[head:new_end])

    blocks: list[tuple[int, int, int]] = []
    _match(old_lines, new_lines, 0, len(old_lines), 0, len(new_lines), blocks, 0)
    blocks.append((len(old_lines), len(new_lines), 0))

    result: list[Change] = []
    i = j = 0
    old_offset = new_offset = head
    for block_i, block_j, size in blocks:
        if block_i > i or block_j > j:
            old_next = old_offset + sum(map(len, old_lines[i:block_i]))
            new_next = new_offset + sum(map(len, new_lines[j:block_j]))
            result.append(Change(old_offset, old_next, new_offset, new_next))
            old_offset, new_offset = old_next, new_next
        matched = sum(map(len, old_lines[block_i : block_i + size]))
        old_offset += matched
        new_offset += matched
        i, j = block_i + size, block_j + size
    return result


def _match(
    a: list[str], b: list[str], alo: int, ahi: int, blo: int, bhi: int, out: list[tuple[int, int, int]], depth: int
) -> None:
    """Append the matching blocks ``(i, j, size)`` of ``a[alo:ahi]`` and ``b[blo:bhi]`` to ``out``, in order."""
    head = 0
    while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
        head += 1
    if head:
        _append(out, alo, blo, head)
        alo += head
        blo += head
    tail = 0
    while alo < ahi - tail and blo < bhi - tail and a[ahi - 1 - tail] == b[bhi - 1 - tail]:
        tail += 1
    ahi -= tail
    bhi -= tail

    if alo < ahi and blo < bhi:
        small = (ahi - alo) + (bhi - blo) <= _SMALL
        anchors = [] if small or depth >= _MAX_DEPTH else _unique_anchors(a, b, alo, ahi, blo, bhi)
        if anchors:
            # Lines from (run_i, run_j) up to (i, j) are known to match; a gap between anchors that is not
            # equal line for line is diffed on its own.
            run_i, run_j = i, j = alo, blo
            index = 0
            while index < len(anchors):
                anchor_i, anchor_j = anchors[index]
                if anchor_i - i != anchor_j - j or a[i:anchor_i] != b[j:anchor_j]:
                    if i > run_i:
                        _append(out, run_i, run_j, i - run_i)
                    _match(a, b, i, anchor_i, j, anchor_j, out, depth + 1)
                    run_i, run_j = anchor_i, anchor_j
                index = _last_in_step(a, b, anchors, index)
                i, j = anchors[index][0] + 1, anchors[index][1] + 1
                index += 1
            if i > run_i:
                _append(out, run_i, run_j, i - run_i)
            _match(a, b, i, ahi, j, bhi, out, depth + 1)
        else:
            matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            for i, j, size in matcher.get_matching_blocks():
                if size:
                    _append(out, alo + i, blo + j, size)
    if tail:
        _append(out, ahi, bhi, tail)


def _last_in_step(a: list[str], b: list[str], anchors: list[tuple[int, int]], first: int) -> int:
    """The last anchor up to which the lines from anchor ``first`` on match one for one (galloping).

    Sparse edits leave long stretches where every anchor follows the one before: they are skipped with a
    few slice comparisons instead of one step per anchor.
    """

    def in_step(known: int, index: int) -> bool:  # given that anchor ``known`` is in step
        known_i, known_j = anchors[known]
        last_i, last_j = anchors[index]
        return last_i - known_i == last_j - known_j and a[known_i:last_i] == b[known_j:last_j]

    good, stretch = first, 1
    while True:
        probe = min(good + stretch, len(anchors) - 1)
        if probe == good:
            return good
        if not in_step(good, probe):
            break
        good, stretch = probe, stretch * 2
    bad = probe
    while bad - good > 1:
        middle = (good + bad) // 2
        if in_step(good, middle):
            good = middle
        else:
            bad = middle
    return good


def _append(out: list[tuple[int, int, int]], i: int, j: int, size: int) -> None:
    """Append a matching block, merged into the last one when it continues it."""
    if out:
        last_i, last_j, last_size = out[-1]
        if last_i + last_size == i and last_j + last_size == j:
            out[-1] = (last_i, last_j, last_size + size)
            return
    out.append((i, j, size))


def _unique_anchors(a: list[str], b: list[str], alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
    """Lines that occur once in each range, paired, in the longest run increasing on both sides."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = dict(zip(b[blo:bhi], range(blo, bhi), strict=True))  # a line that occurs once: its position
    pairs = [
        (i, where_b[line]) for i, line in enumerate(a[alo:ahi], alo) if count_a[line] == 1 and count_b.get(line) == 1
    ]
    if not pairs:
        return []
    positions = [j for _, j in pairs]
    if positions == sorted(positions):  # nothing moved (the usual case): every unique line is an anchor
        return pairs
    # Longest increasing subsequence of the b positions (patience sorting), with back links.
    tops: list[int] = []  # b position on top of each pile
    top_index: list[int] = []  # index into pairs of that top
    back: list[int] = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        pile = bisect.bisect_left(tops, j)
        if pile == len(tops):
            tops.append(j)
            top_index.append(index)
        else:
            tops[pile] = j
            top_index[pile] = index
        back[index] = top_index[pile - 1] if pile else -1
    chain: list[tuple[int, int]] = []
    index = top_index[-1]
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    chain.reverse()
    return chain


def _line_start_before(text: str, position: int) -> int:
    """The last line start at or before ``position`` that is a line start whatever follows ``text[:position]``.

    A ``\\r`` just before ``position`` does not count: the other text may continue it with ``\\n``.
    """
    found = max(text.rfind("\n", 0, position), text.rfind("\r", 0, position))
    if found >= 0 and text[found] == "\r" and found + 1 == position:
        found = max(text.rfind("\n", 0, found), text.rfind("\r", 0, found))
    return found + 1


def _common_tail_start(old: str, new: str, head: int) -> tuple[int, int]:
    """Where the common tail of whole lines starts in each text, not before ``head`` (a common line start)."""
    limit = min(len(old), len(new)) - head
    size = common_tail(old, new, len(old) - limit, len(old), len(new) - limit, len(new))
    if size == 0:
        return len(old), len(new)
    old_start, new_start = len(old) - size, len(new) - size
    if _starts_line(old, old_start, head) and _starts_line(new, new_start, head):
        return old_start, new_start
    # Otherwise the first line start inside the common tail (the end of both texts when there is none).
    end = line_end(old, old_start)
    return end, end + len(new) - len(old)


def _starts_line(text: str, position: int, head: int) -> bool:
    """Whether ``position`` (not before ``head``, a line start) starts a line of ``text``."""
    if position == head:
        return True
    before = text[position - 1]
    return before == "\n" or (before == "\r" and text[position : position + 1] != "\n")
