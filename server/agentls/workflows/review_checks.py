"""What accepting only part of a proposal may break: the warnings ``agentls.accept`` returns.

Hunks of one group depend on each other (``edits.groups``): accepting one without the other gets a
warning naming both as the user knows them. And the partly accepted text is checked for syntax errors
it would introduce (the whole proposal was validated; a part of it was not).
"""

from __future__ import annotations

from collections.abc import Sequence

from agentls.edits.hunks import Hunk, apply_hunks
from agentls.edits.proposal import Proposal

__all__ = ["group_warnings", "syntax_warnings"]


def group_warnings(proposal: Proposal, chosen: Sequence[str], labels: dict[str, str]) -> list[str]:
    """One line per link between a hunk being accepted and one that is not accepted (now or before)."""
    picked = set(chosen)

    def left_out(hunk_id: str) -> bool:
        state = proposal.states.get(hunk_id)
        return hunk_id not in picked and state is not None and state != "accepted"

    def name(hunk_id: str) -> str:
        if hunk_id in labels:
            return labels[hunk_id]
        return "a change you rejected" if proposal.states.get(hunk_id) == "rejected" else "another change"

    def why_not(hunk_id: str) -> str:
        return "which you rejected" if proposal.states.get(hunk_id) == "rejected" else "which you did not accept"

    warnings: list[str] = []
    for link in proposal.links:
        first, second = link.first, link.second
        if first in picked and left_out(second):
            if link.name:
                line = f"{name(first)} defines `{link.name}`, used by {name(second)}, {why_not(second)}"
            else:
                line = f"{name(first)} and {name(second)} come from one edit; {name(second)} was not accepted"
        elif second in picked and left_out(first):
            if link.name:
                line = f"{name(second)} uses `{link.name}`, defined by {name(first)}, {why_not(first)}"
            else:
                line = f"{name(first)} and {name(second)} come from one edit; {name(first)} was not accepted"
        else:
            continue
        if line not in warnings:
            warnings.append(line)
    return warnings


def syntax_warnings(path: str, current: str, hunks: Sequence[Hunk]) -> list[str]:
    """The syntax errors applying ``hunks`` to ``current`` would introduce, one line each (at most two).
    Parses: call it in a thread."""
    from agentls.agent.overlay import FileChange
    from agentls.workflows.validation import introduced

    after = apply_hunks(current, hunks)
    issues = introduced([FileChange(path, current, after)]).get(path, [])
    return [f"the accepted changes leave a syntax error at line {after.count(chr(10), 0, issue.start) + 1} of "
            f"{path}: {issue.message}" for issue in issues[:2]]
