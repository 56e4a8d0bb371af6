"""A unified diff (``diff -u``, git's format) over the code base's one line diff (``lines.changes``).

``difflib.unified_diff`` is quadratic when lines repeat and slower still when most lines change (a 1 MB
file with every other line edited takes tens of seconds); ``changes`` trims the common head and tail and
cuts the rest at unique lines first, so a diff costs about the size of what changed. The hunks are grouped
and numbered as difflib and git do: ``context`` lines around each change, changes closer than twice that
share a hunk, and a last line without an ending is marked ``\\ No newline at end of file``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from itertools import accumulate

from agentls.edits.lines import changes, split_lines

NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class UnifiedDiff:
    text: str
    added: int
    removed: int


def unified_diff(before: str | None, after: str | None, path: str, context: int = 3) -> UnifiedDiff:
    """The diff of ``path`` from ``before`` to ``after`` (None: the file does not exist on that side)."""
    old_text, new_text = before or "", after or ""
    old, new = split_lines(old_text), split_lines(new_text)
    old_starts, new_starts = [0, *accumulate(map(len, old))], [0, *accumulate(map(len, new))]
    # (i1, i2, j1, j2): old[i1:i2] became new[j1:j2]; offsets from ``changes`` are at line starts.
    ops = [(bisect.bisect_left(old_starts, c.old_start), bisect.bisect_left(old_starts, c.old_end),
            bisect.bisect_left(new_starts, c.new_start), bisect.bisect_left(new_starts, c.new_end))
           for c in changes(old_text, new_text)]
    if not ops:
        return UnifiedDiff("", 0, 0)
    out = [f"--- {'a/' + path if before is not None else '/dev/null'}\n",
           f"+++ {'b/' + path if after is not None else '/dev/null'}\n"]
    added = removed = 0
    for group in _groups(ops, context):
        first, last = group[0], group[-1]
        i1, i2 = max(0, first[0] - context), min(len(old), last[1] + context)
        j1, j2 = first[2] - (first[0] - i1), last[3] + (i2 - last[1])
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        at = i1
        for a1, a2, b1, b2 in group:
            out.extend(_lines(" ", old[at:a1]))
            out.extend(_lines("-", old[a1:a2]))
            out.extend(_lines("+", new[b1:b2]))
            removed, added, at = removed + a2 - a1, added + b2 - b1, a2
        out.extend(_lines(" ", old[at:i2]))
    return UnifiedDiff("".join(out), added, removed)


def _groups(ops: list[tuple[int, int, int, int]], context: int) -> list[list[tuple[int, int, int, int]]]:
    groups = [[ops[0]]]
    for op in ops[1:]:
        if op[0] - groups[-1][-1][1] <= 2 * context:
            groups[-1].append(op)
        else:
            groups.append([op])
    return groups


def _range(start: int, stop: int) -> str:
    """difflib's and git's numbering: 1-based, the length omitted when 1, the line before an empty range."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _lines(mark: str, lines: list[str]) -> list[str]:
    return [mark + line if line.endswith(("\n", "\r")) else f"{mark}{line}\n{NO_NEWLINE}" for line in lines]
