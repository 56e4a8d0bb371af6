"""Pending proposals and what the user's typing does to them, independent of LSP.

A proposal is anchored on the last text we saw of its document (``base``, ``version``). When the
user types, ``reanchor`` carries its hunks with the text (``edits.carry``): a hunk never goes away.
An insertion the user typed next to moves with their lines; a hunk whose lines the user changed
becomes a conflict over the user's lines (the agent's text can still be forced over them), and goes
back to pending when the user undoes their change. A proposal for a new file treats a blank buffer
(``""``, or the ``"\\n"`` an editor sends for an empty buffer) as the empty file it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentls.edits.carry import carry
from agentls.edits.hunks import Hunk, apply_hunks
from agentls.edits.proposal import Proposal
from agentls.errors import InvalidRequest


@dataclass
class Reanchored:
    """What ``reanchor`` changed beyond moving hunks with the text: ``conflicts`` (newly in conflict),
    ``moved`` (re-targeted insertions), ``restored`` (conflicts back to pending), ``merged`` (conflicts
    folded into another). Any of them means the proposal must be shown again."""

    conflicts: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    reshaped: bool = False

    def __bool__(self) -> bool:
        return bool(self.conflicts or self.moved or self.restored or self.merged or self.reshaped)


class ProposalBook:
    def __init__(self) -> None:
        self._proposals: dict[str, Proposal] = {}

    def add(self, proposal: Proposal) -> None:
        self._proposals[proposal.id] = proposal

    def get(self, proposal_id: str) -> Proposal:
        proposal = self._proposals.get(proposal_id)
        if proposal is None:
            raise InvalidRequest("no pending agent proposal by that id (already resolved?)")  # no ids shown
        return proposal

    def for_uri(self, uri: str) -> list[Proposal]:
        return [p for p in self._proposals.values() if p.uri == uri and not p.resolved]

    def all(self) -> list[Proposal]:
        return [p for p in self._proposals.values() if not p.resolved]

    def forget_resolved(self) -> None:
        for proposal_id in [i for i, p in self._proposals.items() if p.resolved]:
            del self._proposals[proposal_id]

    def reanchor(self, proposal: Proposal, current: str, version: int | None) -> Reanchored:
        """Carry the open hunks onto ``current`` (see the module docstring)."""
        if current == proposal.base:
            proposal.version = version
            return Reanchored()
        if proposal.kind == "create" and _blank(proposal.base):
            if _blank(current):
                return _new_file(proposal, current, version)
            _whole_lines(proposal)  # the user typed into the new file: carry the hunk as whole lines
        # Hunks accepted since the last anchor are in ``current`` already: they are not the user's edits.
        accepted = proposal.in_state("accepted")
        carried = carry(proposal.base, current, proposal.open_hunks(), accepted=accepted,
                        agent_old=proposal.agent_old)
        out = Reanchored(moved=[h.id for h in carried.moved], merged=list(carried.merged))
        for hunk in carried.conflicts:
            if hunk.old_text == carried.agent_old[hunk.id]:  # the user's lines are the agent's old ones again
                if proposal.states[hunk.id] == "conflict":
                    proposal.mark([hunk.id], "pending")
                    out.restored.append(hunk.id)
                proposal.agent_old.pop(hunk.id, None)
                continue
            if proposal.states[hunk.id] != "conflict":
                proposal.mark([hunk.id], "conflict")
                out.conflicts.append(hunk.id)
            proposal.agent_old[hunk.id] = carried.agent_old[hunk.id]
        for hunk in carried.applied:
            if proposal.states[hunk.id] == "conflict" and hunk.old_text == proposal.agent_old.get(hunk.id):
                proposal.mark([hunk.id], "pending")  # the user undid their change
                del proposal.agent_old[hunk.id]
                out.restored.append(hunk.id)
        for hunk_id in carried.merged:
            proposal.states.pop(hunk_id, None)
            proposal.agent_old.pop(hunk_id, None)
        proposal.base, proposal.version = current, version
        proposal.hunks = carried.hunks()  # accepted and rejected hunks are behind us now
        return out

    @staticmethod
    def choose(proposal: Proposal, hunk_ids: Sequence[str] | None, *, force: bool) -> tuple[list[Hunk], list[Hunk]]:
        """The hunks to apply and the conflicts left alone: for None every pending hunk (and, with
        ``force``, every conflict), else those named; a conflict is applied only with ``force``."""
        named = proposal.select(hunk_ids)
        if hunk_ids is None:
            named = proposal.open_hunks()
        apply = [h for h in named if proposal.states[h.id] == "pending" or force]
        return apply, [h for h in named if h not in apply]


def _blank(text: str) -> bool:
    return text in ("", "\n", "\r\n")


def _whole_lines(proposal: Proposal) -> None:
    """Undo ``_new_file``'s form: the text replaces the blank buffer's one line (so typing there conflicts)."""
    proposal.hunks = [Hunk(h.id, 0, len(proposal.base), proposal.base, h.new_text + proposal.base)
                      if (h.start, h.end) == (0, 0) and proposal.base else h for h in proposal.hunks]


def _new_file(proposal: Proposal, current: str, version: int | None) -> Reanchored:
    """A blank buffer for a proposed new file: the whole proposed text goes in at 0:0, and the one empty
    line the editor shows becomes its last line (no blank line added at the end)."""
    hunk = proposal.open_hunks()[0] if len(proposal.open_hunks()) == 1 else None
    if hunk is None:
        return Reanchored()
    text = apply_hunks(proposal.base, [hunk])
    if current and text.endswith(current):
        new = Hunk(hunk.id, 0, 0, "", text[: -len(current)])
    else:
        new = Hunk(hunk.id, 0, len(current), current, text)
    proposal.hunks = [new]
    proposal.base, proposal.version = current, version
    if proposal.states[hunk.id] == "conflict":
        proposal.mark([hunk.id], "pending")
    return Reanchored(reshaped=True)
