"""The proposal the workflow keeps per edited file: base text, hunks, and where each hunk stands.

Pure data and a small state machine; no I/O. A hunk starts ``pending``. From there it can be ``accepted``
or ``rejected`` (final), or become a ``conflict`` (the user changed its lines since the base: the hunk then
covers the user's lines, ``agent_old`` keeps what the agent had replaced). A conflict stays until the user
accepts it (the agent's text over theirs) or rejects it; it goes back to pending when the user undoes their
change. ``stale`` is no longer produced (a hunk is never dropped), it is kept for old callers.

Hunks are named for people by ``label``: "change 2 of 4, line 25" (the pending and conflict hunks in
document order, the line where the hunk starts in ``base``, the text the user has now).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from agentls.edits.groups import Link, group_hunks, links
from agentls.edits.hunks import Hunk, diff_hunks, line_range
from agentls.errors import InvalidRequest

__all__ = [
    "HUNK_STATES",
    "HunkState",
    "InvalidTransition",
    "Proposal",
    "ProposalKind",
    "UnknownHunk",
    "build_proposal",
]

HunkState = Literal["pending", "accepted", "rejected", "conflict", "stale"]
ProposalKind = Literal["modify", "create", "delete"]
HUNK_STATES: tuple[HunkState, ...] = get_args(HunkState)

# Where a hunk may go from each state (staying in pending, conflict or stale is allowed too).
_NEXT: dict[HunkState, frozenset[HunkState]] = {
    "pending": frozenset({"accepted", "rejected", "conflict", "stale"}),
    "conflict": frozenset({"pending", "accepted", "rejected", "stale"}),
    "stale": frozenset({"pending", "rejected"}),
    "accepted": frozenset(),
    "rejected": frozenset(),
}
_FINAL: frozenset[HunkState] = frozenset({"accepted", "rejected"})


class UnknownHunk(InvalidRequest, KeyError):
    """A hunk id that the proposal does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidTransition(InvalidRequest):
    """A hunk cannot go to the state asked for (it was already accepted or rejected, say)."""


@dataclass
class Proposal:
    """An agent's change to one file, as hunks against ``base`` (the text of document ``version``)."""

    id: str
    path: str
    uri: str
    version: int | None  # the document version ``base`` came from; None when the file was not open
    base: str
    hunks: list[Hunk]
    summary: str
    validation: list[dict[str, Any]] = field(default_factory=list)  # syntax issues, opaque here
    states: dict[str, HunkState] = field(default_factory=dict)  # missing hunks start pending
    kind: ProposalKind = "modify"
    #: Hunk id -> group id: hunks of one group depend on each other (one edit, or a name one defines and
    #: another uses). A hunk missing here is a group of its own.
    groups: dict[str, str] = field(default_factory=dict)
    #: Why hunks are grouped (for the warnings when only some of a group are accepted).
    links: list[Link] = field(default_factory=list)
    #: Conflict hunk id -> the lines the agent had replaced (the hunk's ``old_text`` is the user's text).
    agent_old: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [hunk.id for hunk in self.hunks]
        if len(set(ids)) != len(ids):
            raise ValueError(f"proposal {self.id} has duplicate hunk ids")
        unknown = set(self.states) - set(ids)
        if unknown:
            raise ValueError(f"proposal {self.id} has states for unknown hunks: {', '.join(sorted(unknown))}")
        for hunk_id in ids:
            state = self.states.setdefault(hunk_id, "pending")
            if state not in HUNK_STATES:
                raise ValueError(f"hunk {hunk_id} has an unknown state {state!r}")

    def hunk(self, hunk_id: str) -> Hunk:
        """The hunk with this id; UnknownHunk if there is none."""
        for hunk in self.hunks:
            if hunk.id == hunk_id:
                return hunk
        raise UnknownHunk(f"proposal {self.id} has no hunk {hunk_id!r}")

    def pending(self) -> list[Hunk]:
        """The hunks still pending, in document order."""
        return self.in_state("pending")

    def in_state(self, state: HunkState) -> list[Hunk]:
        """The hunks in ``state``, in document order (``in_state("accepted")`` is ``rebase``'s ``accepted``)."""
        return [hunk for hunk in self.hunks if self.states[hunk.id] == state]

    def select(self, hunk_ids: Sequence[str] | None) -> list[Hunk]:
        """The hunks to act on, in document order: all pending ones for None, else those named (once each).

        UnknownHunk names an id the proposal does not have; InvalidTransition a hunk already accepted or
        rejected. Conflict and stale hunks can be selected by id (to retry or reject them).
        """
        if hunk_ids is None:
            return self.pending()
        wanted = set(hunk_ids)
        for hunk_id in hunk_ids:
            if hunk_id not in self.states:
                raise UnknownHunk(f"proposal {self.id} has no hunk {hunk_id!r}")
            if self.states[hunk_id] in _FINAL:  # shown to the user: no ids
                raise InvalidTransition(f"that agent change was already {self.states[hunk_id]}")
        return [hunk for hunk in self.hunks if hunk.id in wanted]

    def mark(self, hunk_ids: Iterable[str], state: HunkState) -> None:
        """Move hunks to ``state``: all of them or, on an unknown id or a forbidden move, none."""
        if state not in HUNK_STATES:
            raise ValueError(f"unknown hunk state {state!r}")
        ids = list(hunk_ids)
        for hunk_id in ids:
            current = self.states.get(hunk_id)
            if current is None:
                raise UnknownHunk(f"proposal {self.id} has no hunk {hunk_id!r}")
            if state not in _NEXT[current] and not (state == current and current not in _FINAL):
                raise InvalidTransition(f"hunk {hunk_id} of proposal {self.id} is already {current}")
        for hunk_id in ids:
            self.states[hunk_id] = state

    @property
    def resolved(self) -> bool:
        """Whether every hunk was accepted or rejected (a conflict still waits for the user)."""
        return all(state in _FINAL for state in self.states.values())

    def open_hunks(self) -> list[Hunk]:
        """The hunks the user still has to decide on (pending or conflict), in document order."""
        return [hunk for hunk in self.hunks if self.states[hunk.id] in ("pending", "conflict")]

    def group_of(self, hunk_id: str) -> str:
        return self.groups.get(hunk_id, hunk_id)

    def labels(self) -> dict[str, str]:
        """How the user knows each open hunk: "change 2 of 4, line 25" (one pass over ``base``)."""
        visible = self.open_hunks()
        found: dict[str, str] = {}
        line, position = 1, 0
        for number, hunk in enumerate(visible, start=1):
            line += _lines_between(self.base, position, hunk.start)
            position = hunk.start
            found[hunk.id] = f"change {number} of {len(visible)}, line {line}"
        return found

    def label(self, hunk_id: str) -> str:
        """How the user knows the hunk ("the change at line 25" once it is no longer open)."""
        found = self.labels().get(hunk_id)
        return found if found is not None else f"the change at line {self.line_of(self.hunk(hunk_id))}"

    def line_of(self, hunk: Hunk) -> int:
        """The 1-based line of ``base`` where ``hunk`` starts."""
        return self.base.count("\n", 0, hunk.start) + 1 if "\r" not in self.base else _line(self.base, hunk.start)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; offsets are code points into ``base`` (the LSP layer converts them). Only the hunks
        the user still has to decide on (pending, conflict) are listed."""
        visible = self.open_hunks()
        labels = self.labels()
        hunks = []
        for number, hunk in enumerate(visible, start=1):
            item = {
                "id": hunk.id,
                "start": hunk.start,
                "end": hunk.end,
                "oldText": hunk.old_text,
                "newText": hunk.new_text,
                "state": self.states[hunk.id],
                "index": number,
                "total": len(visible),
                "label": labels[hunk.id],
                "group": self.group_of(hunk.id),
            }
            if self.states[hunk.id] == "conflict":
                item["oldText"] = self.agent_old.get(hunk.id, hunk.old_text)
                item["currentText"] = hunk.old_text
            hunks.append(item)
        return {
            "id": self.id,
            "uri": self.uri,
            "path": self.path,
            "version": self.version,
            "kind": self.kind,
            "summary": self.summary,
            "validation": list(self.validation),
            "hunks": hunks,
        }


def build_proposal(
    *,
    path: str,
    uri: str,
    version: int | None,
    base: str,
    after: str,
    summary: str,
    validation: Iterable[dict[str, Any]] = (),
    kind: ProposalKind = "modify",
    edits: Sequence[tuple[int, int]] = (),
) -> Proposal | None:
    """A proposal of the hunks from ``base`` to ``after``, all pending; None when the texts are equal.

    ``edits``: the regions of ``after`` each of the agent's edits wrote (hunks in one are one group)."""
    hunks = diff_hunks(base, after)
    if not hunks:
        return None
    found = links(hunks, edits)
    return Proposal(
        kind=kind,
        links=found,
        groups=group_hunks(hunks, found),
        id=new_proposal_id(),
        path=path,
        uri=uri,
        version=version,
        base=base,
        hunks=hunks,
        summary=summary,
        validation=list(validation),
    )


def _lines_between(text: str, start: int, end: int) -> int:
    """Line breaks in ``text[start:end]`` (``\r\n`` counts once; ``start`` and ``end`` are line starts)."""
    if "\r" not in text:
        return text.count("\n", start, end)
    return _line(text, end) - _line(text, start)


def _line(text: str, offset: int) -> int:
    return line_range(text, offset, offset)[0] + 1


def new_proposal_id() -> str:
    """A short random id (12 hex digits of a UUID4)."""
    return uuid.uuid4().hex[:12]
