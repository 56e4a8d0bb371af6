"""Proposal: building one from two texts, hunk states and their transitions, selection, and to_dict."""

from __future__ import annotations

import json

import pytest

from agentls.edits import InvalidTransition, Proposal, UnknownHunk, build_proposal
from agentls.edits.hunks import apply_hunks
from agentls.errors import InvalidRequest

BASE = "one\ntwo\nthree\nfour\nfive\n"
AFTER = "ONE\ntwo\nthree\nFOUR\nfive\nsix\n"


def _proposal() -> Proposal:
    proposal = build_proposal(
        path="src/a.py",
        uri="file:///w/src/a.py",
        version=7,
        base=BASE,
        after=AFTER,
        summary="Capitalise",
        validation=[{"message": "unexpected ')'", "start": 3, "end": 4}],
    )
    assert proposal is not None
    return proposal


def test_build_proposal() -> None:
    proposal = _proposal()
    assert [hunk.id for hunk in proposal.hunks] == ["h1", "h2", "h3"]
    assert apply_hunks(BASE, proposal.hunks) == AFTER
    assert proposal.states == {"h1": "pending", "h2": "pending", "h3": "pending"}
    assert len(proposal.id) == 12
    assert proposal.id != _proposal().id
    assert not proposal.resolved


def test_no_change_no_proposal() -> None:
    assert build_proposal(path="a", uri="file:///a", version=None, base=BASE, after=BASE, summary="") is None


def test_to_dict() -> None:
    proposal = _proposal()
    proposal.mark(["h2"], "rejected")
    data = proposal.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "id": proposal.id,
        "uri": "file:///w/src/a.py",
        "path": "src/a.py",
        "version": 7,
        "kind": "modify",
        "summary": "Capitalise",
        "validation": [{"message": "unexpected ')'", "start": 3, "end": 4}],
        "hunks": [  # only the hunks still open, named as the user sees them
            {"id": "h1", "start": 0, "end": 4, "oldText": "one\n", "newText": "ONE\n", "state": "pending",
             "index": 1, "total": 2, "label": "change 1 of 2, line 1", "group": "g1"},
            {"id": "h3", "start": 24, "end": 24, "oldText": "", "newText": "six\n", "state": "pending",
             "index": 2, "total": 2, "label": "change 2 of 2, line 6", "group": "g3"},
        ],
    }


def test_select() -> None:
    proposal = _proposal()
    assert [hunk.id for hunk in proposal.select(None)] == ["h1", "h2", "h3"]
    assert [hunk.id for hunk in proposal.select(["h3", "h1", "h3"])] == ["h1", "h3"]  # document order, once
    proposal.mark(["h1"], "accepted")
    proposal.mark(["h2"], "conflict")
    assert [hunk.id for hunk in proposal.select(None)] == ["h3"]
    assert [hunk.id for hunk in proposal.select(["h2"])] == ["h2"]  # a conflict can be retried
    with pytest.raises(InvalidTransition, match=r"^that agent change was already accepted$"):
        proposal.select(["h1"])


def test_unknown_hunk_is_named() -> None:
    proposal = _proposal()
    with pytest.raises(UnknownHunk) as caught:
        proposal.select(["h1", "h9"])
    assert str(caught.value) == f"proposal {proposal.id} has no hunk 'h9'"
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, InvalidRequest)
    with pytest.raises(UnknownHunk, match="h9"):
        proposal.mark(["h9"], "accepted")
    with pytest.raises(UnknownHunk, match="h0"):
        proposal.hunk("h0")
    assert proposal.hunk("h2").old_text == "four\n"


def test_transitions() -> None:
    proposal = _proposal()
    proposal.mark(["h1"], "conflict")
    proposal.mark(["h1"], "conflict")  # staying is fine
    proposal.mark(["h1"], "pending")  # the user undid their change
    proposal.mark(["h1"], "accepted")
    proposal.mark(["h2"], "stale")
    with pytest.raises(InvalidTransition):
        proposal.mark(["h2"], "accepted")
    proposal.mark(["h2"], "rejected")
    for state in ("pending", "accepted", "rejected", "conflict", "stale"):
        with pytest.raises(InvalidTransition, match="already"):
            proposal.mark(["h1"], state)
    with pytest.raises(ValueError, match="unknown hunk state"):
        proposal.mark(["h3"], "done")  # type: ignore[arg-type]
    assert proposal.in_state("accepted") == [proposal.hunk("h1")]


def test_mark_is_all_or_nothing() -> None:
    proposal = _proposal()
    proposal.mark(["h2"], "rejected")
    with pytest.raises(InvalidTransition):
        proposal.mark(["h1", "h2", "h3"], "accepted")
    with pytest.raises(UnknownHunk):
        proposal.mark(["h1", "nope"], "accepted")
    assert proposal.states == {"h1": "pending", "h2": "rejected", "h3": "pending"}


def test_resolved_when_every_hunk_is_accepted_or_rejected() -> None:
    proposal = _proposal()
    proposal.mark(["h1", "h3"], "accepted")
    assert not proposal.resolved
    proposal.mark(["h2"], "conflict")
    assert not proposal.resolved  # a conflict waits for the user
    assert proposal.pending() == []
    proposal.mark(["h2"], "rejected")
    assert proposal.resolved


def test_direct_construction_checks_its_states() -> None:
    hunks = _proposal().hunks
    kept = Proposal("p", "a", "file:///a", None, BASE, hunks, "", states={"h2": "accepted"})
    assert kept.states == {"h1": "pending", "h2": "accepted", "h3": "pending"}
    with pytest.raises(ValueError, match="unknown hunks: h7"):
        Proposal("p", "a", "file:///a", None, BASE, hunks, "", states={"h7": "accepted"})
    with pytest.raises(ValueError, match="duplicate"):
        Proposal("p", "a", "file:///a", None, BASE, [hunks[0], hunks[0]], "")
    with pytest.raises(ValueError, match="unknown state"):
        Proposal("p", "a", "file:///a", None, BASE, hunks, "", states={"h1": "done"})  # type: ignore[dict-item]
