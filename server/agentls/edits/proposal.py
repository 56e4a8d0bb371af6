"""The proposal the workflow keeps per edited file: base text, hunks, and where each hunk stands.

Pure data and a small state machine; no I/O. A hunk starts ``pending``. From there it can be ``accepted``
or ``rejected`` (final), or become a ``conflict`` (the user changed its lines since the base) or ``stale``
(the proposal no longer fits the document, as the workflow decides). A conflict or stale hunk can be
rejected, put back to pending, and a conflict can still be accepted (say after the user undid their change).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from agentls.edits.hunks import Hunk, diff_hunks
from agentls.errors import InvalidRequest

__all__ = [
    "HUNK_STATES",
    "HunkState",
    "InvalidTransition",
    "Proposal",
    "UnknownHunk",
    "build_proposal",
]

HunkState = Literal["pending", "accepted", "rejected", "conflict", "stale"]
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
            if self.states[hunk_id] in _FINAL:
                raise InvalidTransition(f"hunk {hunk_id} of proposal {self.id} is already {self.states[hunk_id]}")
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
        """Whether no hunk is pending any more."""
        return all(state != "pending" for state in self.states.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; offsets are code points into ``base`` (the LSP layer converts them)."""
        return {
            "id": self.id,
            "uri": self.uri,
            "path": self.path,
            "version": self.version,
            "summary": self.summary,
            "validation": list(self.validation),
            "hunks": [
                {
                    "id": hunk.id,
                    "start": hunk.start,
                    "end": hunk.end,
                    "oldText": hunk.old_text,
                    "newText": hunk.new_text,
                    "state": self.states[hunk.id],
                }
                for hunk in self.hunks
            ],
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
) -> Proposal | None:
    """A proposal of the hunks from ``base`` to ``after``, all pending; None when the texts are equal."""
    hunks = diff_hunks(base, after)
    if not hunks:
        return None
    return Proposal(
        id=new_proposal_id(),
        path=path,
        uri=uri,
        version=version,
        base=base,
        hunks=hunks,
        summary=summary,
        validation=list(validation),
    )


def new_proposal_id() -> str:
    """A short random id (12 hex digits of a UUID4)."""
    return uuid.uuid4().hex[:12]
