"""3-way rebase: carry the agent's hunks (made against ``base``) onto ``current`` (base plus the user's typing).

The user's changes are found with the same line diff as the hunks (common head and tail trimmed first, so a
5,000-line file with one edit costs little). Each user change is a block of base lines
``[old_start, old_end)`` replaced by other lines; ``old_start == old_end`` is a pure insertion of lines. The
unit is the line: one character typed changes its line, and so does a changed line ending; joining two
lines changes both.

Conflict rules, for a hunk covering base lines ``[start, end)``:

1. A hunk that replaces or deletes lines (``start < end``) conflicts with a user change that modifies or
   deletes any of those lines, or that inserts lines strictly between two of them. A user change to a line
   outside them, however close, and lines the user inserted directly above ``start`` or directly below
   ``end`` do not conflict: the hunk moves with the text.
2. A pure insertion (``start == end``) sits between the line above and the line below the insertion point
   (its anchors, when they exist). It conflicts with a user change that modifies or deletes either anchor,
   and with lines the user inserted at the same point. Why: inserted code belongs next to its anchors (a
   decorator above a ``def``, a statement after the one it follows); if the user rewrote an anchor or put
   their own lines there, where the agent's lines should go, and in which order, is a guess. Lines the user
   inserted above the upper anchor or below the lower one do not conflict.
3. When the user already made the agent's change (the user's changes that conflict with a hunk turned the
   lines they cover, together with the hunk's, into exactly what the hunk would have made of them), the
   hunk is not a conflict: it is applied as a no-op (``old_text == new_text``, offsets into ``current``).
   The result is the agent's text either way, so refusing it would only ask the user to resolve nothing.

A hunk that does not conflict keeps its id and is re-targeted: its offsets move by what the user's changes
above it added or removed, and its ``old_text`` is unchanged (``current[start:end] == old_text``).

Why not ``merge3`` (or ``git merge-file``): a whole-text 3-way merge answers "does the file merge", not
"which of these hunks carry over"; its sync-region rule makes a user line added directly above a hunk a
conflict, where rule 1 wants it to move the hunk; it diffs whole files with SequenceMatcher (about 90 ms on a
5,000-line file against well under 1 ms here for an edit at the top); and ``merge3`` is GPL, this project MIT.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate

from agentls.edits.hunks import Hunk, apply_hunks, check_hunk
from agentls.edits.lines import Change, changes, line_end, previous_line_start

__all__ = ["Rebased", "rebase"]


@dataclass(frozen=True)
class Rebased:
    """The hunks that carry over to the current text, and those the user's changes conflict with.

    Both lists keep the order the hunks were given in.
    """

    applied: list[Hunk]
    conflicts: list[Hunk]


def rebase(base: str, current: str, hunks: Sequence[Hunk], *, accepted: Sequence[Hunk] = ()) -> Rebased:
    """Re-target ``hunks`` (offsets into ``base``) onto ``current``; see the module docstring for conflicts.

    ``accepted``: hunks of the same diff that were applied to the document earlier (accepted one at a time):
    their changes are taken as part of the base, not as the user's. Without them the result is the same
    whenever the line diff finds those changes where they were made, which repeated lines can prevent.
    Conflicts are returned as given (offsets into ``base``). Raises ValueError when a hunk does not match
    ``base`` or overlaps an accepted hunk.
    """
    for hunk in (*hunks, *accepted):
        check_hunk(base, hunk)
    if accepted:
        given = {hunk.id: hunk for hunk in hunks}
        base, hunks = apply_hunks(base, accepted), _past(accepted, hunks)
        rebased = rebase(base, current, hunks)
        return Rebased(rebased.applied, [given[hunk.id] for hunk in rebased.conflicts])
    if current == base:
        return Rebased(list(hunks), [])
    user = changes(base, current)
    ends = [change.old_end for change in user]
    shifts = list(accumulate((c.new_end - c.new_start - (c.old_end - c.old_start) for c in user), initial=0))

    applied: list[Hunk] = []
    conflicts: list[Hunk] = []
    for hunk in hunks:
        low, high = _anchors(base, hunk)
        first = bisect.bisect_left(ends, low)  # the changes before ``first`` end before the hunk's region
        touching: list[Change] = []
        index = first
        while index < len(user) and user[index].old_start <= high:
            change = user[index]
            if _conflicts(change, hunk, low, high):
                touching.append(change)
            elif change.old_end <= hunk.start and not touching:
                first = index + 1  # above the hunk: it shifts the hunk
            index += 1
        if not touching:
            shift = shifts[first]
            applied.append(replace(hunk, start=hunk.start + shift, end=hunk.end + shift))
            continue
        already = _already_made(base, current, hunk, touching, shifts[first])
        if already is None:
            conflicts.append(hunk)
        else:
            applied.append(already)
    return Rebased(applied, conflicts)


def _past(accepted: Sequence[Hunk], hunks: Sequence[Hunk]) -> list[Hunk]:
    """``hunks`` moved onto the base with the ``accepted`` hunks applied."""
    moved: list[Hunk] = []
    for hunk in hunks:
        shift = 0
        for done in accepted:
            if done.end <= hunk.start and (done.start, done.end) != (hunk.start, hunk.end):
                shift += len(done.new_text) - len(done.old_text)
            elif done.start < hunk.end or (done.start, done.end) == (hunk.start, hunk.end):
                raise ValueError(f"hunk {hunk.id} overlaps the accepted hunk {done.id}")
        moved.append(replace(hunk, start=hunk.start + shift, end=hunk.end + shift))
    return moved


def _anchors(base: str, hunk: Hunk) -> tuple[int, int]:
    """The base region a user change must not touch: the hunk's lines, or an insertion's neighbour lines."""
    if hunk.start < hunk.end:
        return hunk.start, hunk.end
    return previous_line_start(base, hunk.start), line_end(base, hunk.start)


def _conflicts(change: Change, hunk: Hunk, low: int, high: int) -> bool:
    if change.old_start < change.old_end:  # the user modified or deleted lines
        return change.old_start < high and low < change.old_end
    if hunk.start == hunk.end:  # user lines inserted at the agent's insertion point
        return change.old_start == hunk.start
    return hunk.start < change.old_start < hunk.end  # user lines inserted between the hunk's lines


def _already_made(base: str, current: str, hunk: Hunk, touching: list[Change], shift: int) -> Hunk | None:
    """A no-op hunk over the region when the user's changes there equal the hunk's result, else None.

    ``touching`` are the user changes the hunk conflicts with (consecutive, in order); ``shift`` is what the
    user's changes above them added to the text's length.
    """
    old_start = min(hunk.start, touching[0].old_start)
    old_end = max(hunk.end, touching[-1].old_end)
    new_start = old_start + shift
    new_end = (
        new_start + old_end - old_start + sum(c.new_end - c.new_start - (c.old_end - c.old_start) for c in touching)
    )
    agent = base[old_start : hunk.start] + hunk.new_text + base[hunk.end : old_end]
    user = current[new_start:new_end]
    if agent != user:
        return None
    return replace(hunk, start=new_start, end=new_end, old_text=user, new_text=user)
