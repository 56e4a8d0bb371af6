"""Carry pending hunks onto the user's newer text without ever dropping one.

``rebase`` answers "which hunks still apply as they are"; a hunk it refuses is handled here instead of being
dropped:

- an insertion whose neighbour lines the user changed, or next to which the user inserted lines (rebase's
  rule 2: "typed next to it") is **moved**: the agent's lines go where the insertion point is in the
  user's text (below a changed line above, above a changed line below, after lines the user inserted
  there). What the user typed is kept, the result is the agent's lines merged with the user's.
- a hunk whose own lines the user changed (or an insertion point inside a block the user rewrote) is a
  **conflict**: a hunk over the user's lines as they are now (``old_text`` is the user's text, so forcing
  it applies the agent's version over them), with ``agent_old`` the lines the agent had replaced. Two
  conflicts whose regions meet become one.

``carry`` returns every hunk with offsets into ``current``; nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from agentls.edits.hunks import Hunk, apply_hunks, check_hunk
from agentls.edits.lines import Change, changes
from agentls.edits.rebase import _past, rebase

__all__ = ["Carried", "carry"]


@dataclass
class Carried:
    """Hunks with offsets into the current text: ``applied`` as rebase carried them, ``moved`` re-targeted
    insertions, ``conflicts`` over the user's lines (``agent_old``: hunk id -> the agent's old lines)."""

    applied: list[Hunk] = field(default_factory=list)
    moved: list[Hunk] = field(default_factory=list)
    conflicts: list[Hunk] = field(default_factory=list)
    agent_old: dict[str, str] = field(default_factory=dict)
    #: Conflicts that met another one: their ids live on as the first one's.
    merged: list[str] = field(default_factory=list)

    def hunks(self) -> list[Hunk]:
        """All of them, in document order."""
        return sorted((*self.applied, *self.moved, *self.conflicts), key=lambda h: (h.start, h.end))


def carry(base: str, current: str, hunks: Sequence[Hunk], *, accepted: Sequence[Hunk] = (),
          agent_old: dict[str, str] | None = None) -> Carried:
    """Carry ``hunks`` (offsets into ``base``) onto ``current``; ``accepted`` as for ``rebase``.

    ``agent_old`` carries over what earlier conflicts had replaced (their ``old_text`` is the user's text).
    """
    for hunk in (*hunks, *accepted):
        check_hunk(base, hunk)
    if accepted:
        base, hunks = apply_hunks(base, accepted), _past(accepted, hunks)
    known = dict(agent_old or {})
    rebased = rebase(base, current, hunks)
    out = Carried(applied=list(rebased.applied))
    if not rebased.conflicts:
        return out
    user = changes(base, current)
    regions: list[tuple[int, int, list[Hunk]]] = []  # base regions of conflicts, with their hunks
    for hunk in rebased.conflicts:
        if hunk.start == hunk.end and not any(c.old_start < hunk.start < c.old_end for c in user):
            position = hunk.start + sum(_delta(c) for c in user if c.old_end <= hunk.start)
            out.moved.append(replace(hunk, start=position, end=position, old_text=""))
            continue
        low, high = _region(user, hunk.start, hunk.end)
        if regions and low <= regions[-1][1]:
            last_low, last_high, members = regions.pop()
            low, high = _region(user, min(low, last_low), max(high, last_high))
            regions.append((low, high, [*members, hunk]))
        else:
            regions.append((low, high, [hunk]))
    for low, high, members in regions:
        start = low + sum(_delta(c) for c in user if c.old_end <= low and not _inside(c, low, high))
        end = start + (high - low) + sum(_delta(c) for c in user if _inside(c, low, high))
        local = [replace(h, start=h.start - low, end=h.end - low) for h in members]
        agent_new = apply_hunks(base[low:high], local)
        old: list[str] = []
        position = low
        for member in members:
            old += (base[position:member.start], known.get(member.id, member.old_text))
            position = member.end
        old.append(base[position:high])
        first = members[0]
        out.agent_old[first.id] = "".join(old)
        out.merged += [h.id for h in members[1:]]
        out.conflicts.append(Hunk(first.id, start, end, current[start:end], agent_new))
    return out


def _delta(change: Change) -> int:
    return (change.new_end - change.new_start) - (change.old_end - change.old_start)


def _inside(change: Change, low: int, high: int) -> bool:
    """Whether the user's change is part of the base region ``[low, high)`` (insertions at its edges are not)."""
    if change.old_start < change.old_end:
        return change.old_start < high and low < change.old_end
    return low < change.old_start < high


def _region(user: list[Change], low: int, high: int) -> tuple[int, int]:
    """``[low, high)`` grown until no user change straddles its edges (an empty region grows to the change
    that contains its point)."""
    while True:
        grown_low, grown_high = low, high
        for change in user:
            spans_point = low == high and change.old_start < low < change.old_end
            if _inside(change, low, high) or spans_point:
                grown_low, grown_high = min(grown_low, change.old_start), max(grown_high, change.old_end)
        if (grown_low, grown_high) == (low, high):
            return low, high
        low, high = grown_low, grown_high
