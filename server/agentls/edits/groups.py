"""Which hunks of one proposal depend on each other: accepting only some of them may leave broken code.

Two hunks are linked when one edit of the agent's wrote both (a ``str_replace`` whose new text the line
diff split into several hunks), or when one defines a name (``def``/``class``/assignment/import/``function``/
``const``...) that the other's new text uses. A plain identifier check, not a parse: it may link hunks that
merely share a name, which costs a warning, never a change.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import NamedTuple

from agentls.edits.common_runs import common_head, common_tail
from agentls.edits.hunks import Hunk

__all__ = ["Link", "edit_spans", "group_hunks", "links"]

_DEFINES = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?:pub[ \t]+)?(?:async[ \t]+)?"
    r"(?:def|class|function|fn|func|struct|enum|interface|type|const|let|var|local)[ \t]+\*?[ \t]*([A-Za-z_]\w*)"
    r"|^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)"
    r"|^[ \t]*import[ \t]+([A-Za-z_]\w*)"
    r"|\bas[ \t]+([A-Za-z_]\w*)",
    re.MULTILINE,
)
_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+\S+[ \t]+import[ \t]+\(?([^)\n]*)", re.MULTILINE)
_IGNORED = frozenset({"self", "cls", "this", "_", "__all__"})


class Link(NamedTuple):
    """``first`` and ``second`` belong together: ``name`` defined in ``first`` and used in ``second``, or
    ``name == ""``: one edit wrote both."""

    first: str
    second: str
    name: str


def defined_names(text: str) -> set[str]:
    names = {name for match in _DEFINES.finditer(text) for name in match.groups() if name}
    for match in _FROM_IMPORT.finditer(text):
        for part in match.group(1).split(","):
            words = part.split()
            if words:
                names.add(words[-1])
    return {name for name in names if len(name) > 1 and name not in _IGNORED}


def links(hunks: Sequence[Hunk], edits: Sequence[tuple[int, int]] = ()) -> list[Link]:
    """The links between ``hunks`` (one diff, document order); ``edits``: regions of the new text each of the
    agent's edits wrote."""
    found: list[Link] = []
    spans: list[tuple[int, int]] = []  # each hunk's range in the new text
    shift = 0
    for hunk in hunks:
        start = hunk.start + shift
        spans.append((start, start + len(hunk.new_text)))
        shift += len(hunk.new_text) - len(hunk.old_text)
    for low, high in edits:
        inside = [h.id for h, (s, e) in zip(hunks, spans, strict=True)
                  if (s < high and low < e) or (s == e and low <= s <= high)]
        found += [Link(a, b, "") for a, b in itertools.pairwise(inside)]
    for definer in hunks:
        for name in sorted(defined_names(definer.new_text)):
            used = re.compile(rf"\b{re.escape(name)}\b")
            found += [Link(definer.id, user.id, name) for user in hunks
                      if user.id != definer.id and used.search(user.new_text)]
    return found


def group_hunks(hunks: Sequence[Hunk], found: Sequence[Link]) -> dict[str, str]:
    """Hunk id -> group id ("g" and the number of the group's first hunk): the linked hunks, transitively."""
    parent = {hunk.id: hunk.id for hunk in hunks}

    def root(hunk_id: str) -> str:
        while parent[hunk_id] != hunk_id:
            parent[hunk_id] = parent[parent[hunk_id]]
            hunk_id = parent[hunk_id]
        return hunk_id

    order = {hunk.id: number for number, hunk in enumerate(hunks)}
    for link in found:
        a, b = root(link.first), root(link.second)
        if a != b:
            parent[max(a, b, key=order.__getitem__)] = min(a, b, key=order.__getitem__)
    return {hunk.id: f"g{order[root(hunk.id)] + 1}" for hunk in hunks}


def edit_spans(spans: Sequence[tuple[int, int]], before: str, after: str) -> list[tuple[int, int]]:
    """``spans`` (regions of ``before`` that earlier edits wrote) carried onto ``after``, plus the region this
    edit wrote (``before`` and ``after`` without their common head and tail). A span the edit overlaps grows
    to include it."""
    head = common_head(before, after, 0, len(before), 0, len(after))
    tail = common_tail(before, after, head, len(before), head, len(after))
    old_end, new_end = len(before) - tail, len(after) - tail
    delta = new_end - old_end
    carried: list[tuple[int, int]] = []
    for low, high in spans:
        if high < head:
            carried.append((low, high))
        elif low > old_end:
            carried.append((low + delta, high + delta))
        else:
            carried.append((min(low, head), max(high + delta, new_end)))
    carried.append((head, new_end))
    return carried
