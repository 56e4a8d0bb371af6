"""Pending proposals and what accepting or rejecting their hunks means, independent of LSP.

A proposal is anchored on the last text we saw of its document (``base``, ``version``). When the
user types, ``reanchor`` moves its pending hunks with the text; a hunk whose lines the user changed
goes stale. ``plan`` rebases the chosen hunks onto the text the editor holds right now.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentls.edits.proposal import Proposal
from agentls.edits.rebase import Rebased, rebase
from agentls.errors import AgentlsError, InvalidRequest


class ProposalBook:
    def __init__(self) -> None:
        self._proposals: dict[str, Proposal] = {}

    def add(self, proposal: Proposal) -> None:
        self._proposals[proposal.id] = proposal

    def get(self, proposal_id: str) -> Proposal:
        proposal = self._proposals.get(proposal_id)
        if proposal is None:
            raise InvalidRequest(f"no pending agent proposal with id {proposal_id!r} (already resolved?)")
        return proposal

    def for_uri(self, uri: str) -> list[Proposal]:
        return [p for p in self._proposals.values() if p.uri == uri and not p.resolved]

    def all(self) -> list[Proposal]:
        return [p for p in self._proposals.values() if not p.resolved]

    def forget_resolved(self) -> None:
        for proposal_id in [i for i, p in self._proposals.items() if p.resolved]:
            del self._proposals[proposal_id]

    def reanchor(self, proposal: Proposal, current: str, version: int | None) -> list[str]:
        """Move the pending hunks onto ``current``; returns the ids that went stale."""
        if current == proposal.base:
            proposal.version = version
            return []
        # Hunks accepted since the last anchor are in ``current`` already: they are not the user's edits.
        accepted = proposal.in_state("accepted")
        rebased = rebase(proposal.base, current, proposal.pending(), accepted=accepted)
        stale = [hunk.id for hunk in rebased.conflicts]
        if stale:
            proposal.mark(stale, "stale")
        proposal.base, proposal.version = current, version
        proposal.hunks = list(rebased.applied)  # accepted and stale hunks are behind us now
        return stale

    @staticmethod
    def plan(proposal: Proposal, hunk_ids: Sequence[str] | None, current: str) -> Rebased:
        """The chosen pending hunks rebased onto ``current`` (the caller applies ``applied``)."""
        anchored = {hunk.id for hunk in proposal.hunks}
        gone = [i for i in hunk_ids or () if proposal.states.get(i) in ("stale", "conflict") and i not in anchored]
        if gone:
            raise AgentlsError(f"agent change(s) {', '.join(gone)} overlap your edits and can no longer be applied; "
                               "reject them, or ask the agent again")
        return rebase(proposal.base, current, proposal.select(hunk_ids), accepted=proposal.in_state("accepted"))
