"""Carrying hunks onto the user's newer text (``edits.carry``) and the book that keeps proposals
(``workflows.review``): a hunk is moved, or shown as a conflict, never dropped."""

from __future__ import annotations

from agentls.edits.carry import carry
from agentls.edits.hunks import apply_hunks, diff_hunks
from agentls.edits.proposal import build_proposal
from agentls.workflows.review import ProposalBook

BASE = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"


def test_a_comment_on_the_line_below_an_insertion_moves_it_with_the_text() -> None:
    [hunk] = diff_hunks(BASE, BASE.replace("def f():\n", "def f():\n    # one\n"))
    current = BASE.replace("    return 1\n", "    return 1  # the answer\n")
    carried = carry(BASE, current, [hunk])
    assert carried.conflicts == []
    assert [h.id for h in carried.moved] == [hunk.id]
    assert apply_hunks(current, carried.hunks()) == current.replace("def f():\n", "def f():\n    # one\n")


def test_a_line_typed_where_the_agent_inserts_stays_and_the_agent_lines_follow() -> None:
    [hunk] = diff_hunks(BASE, BASE.replace("\n\n\ndef g", "\n\nX = 1\n\ndef g"))
    current = BASE.replace("\n\n\ndef g", "\n\nmine = 2\n\ndef g")
    carried = carry(BASE, current, [hunk])
    assert apply_hunks(current, carried.hunks()).count("mine = 2\n") == 1
    assert "X = 1\n" in apply_hunks(current, carried.hunks())


def test_an_edit_over_the_hunk_lines_is_a_conflict_over_the_user_lines() -> None:
    hunks = diff_hunks(BASE, BASE.replace("return 1", "return 10").replace("return 2", "return 20"))
    current = BASE.replace("return 2", "return 3")
    carried = carry(BASE, current, hunks)
    assert [h.id for h in carried.applied] == ["h1"]
    [conflict] = carried.conflicts
    assert conflict.id == "h2"
    assert current[conflict.start:conflict.end] == conflict.old_text == "    return 3\n"
    assert conflict.new_text == "    return 20\n"
    assert carried.agent_old["h2"] == "    return 2\n"
    forced = apply_hunks(current, carried.hunks())
    assert forced == BASE.replace("return 1", "return 10").replace("return 2", "return 20")


def test_two_conflicts_in_one_user_edit_become_one() -> None:
    after = "A\nb\nC\n"
    hunks = diff_hunks("a\nb\nc\n", after)
    assert len(hunks) == 2
    carried = carry("a\nb\nc\n", "x\ny\nz\n", hunks)
    [conflict] = carried.conflicts
    assert carried.merged == ["h2"]
    assert (conflict.old_text, conflict.new_text, carried.agent_old["h1"]) == ("x\ny\nz\n", after, "a\nb\nc\n")


def _proposal(base: str, after: str, kind: str = "modify"):  # type: ignore[no-untyped-def]
    proposal = build_proposal(path="a.py", uri="file:///w/a.py", version=1, base=base, after=after,
                              summary="", kind=kind)  # type: ignore[arg-type]
    assert proposal is not None
    return proposal


def test_the_book_shows_a_conflict_then_pending_again_when_the_user_undoes() -> None:
    book = ProposalBook()
    proposal = _proposal(BASE, BASE.replace("return 2", "return 20"))
    edited = BASE.replace("return 2", "return 3")
    report = book.reanchor(proposal, edited, 2)
    assert report.conflicts == ["h1"]
    assert proposal.states["h1"] == "conflict"
    data = proposal.to_dict()["hunks"][0]
    assert (data["state"], data["oldText"], data["currentText"]) == ("conflict", "    return 2\n", "    return 3\n")
    assert not proposal.resolved
    report = book.reanchor(proposal, BASE, 3)
    assert report.restored == ["h1"]
    assert proposal.states["h1"] == "pending"
    assert apply_hunks(BASE, proposal.hunks) == BASE.replace("return 2", "return 20")


def test_a_blank_buffer_is_not_an_edit_of_a_new_file() -> None:
    text = "x = 1\ny = 2\n"
    for blank in ("\n", "", "\r\n"):
        book = ProposalBook()
        proposal = _proposal("", text, kind="create")
        assert book.reanchor(proposal, blank, 1) or blank == ""
        [hunk] = proposal.hunks
        assert proposal.states[hunk.id] == "pending"
        if blank != "\r\n":  # (a CRLF buffer for an LF file: the hunk replaces its one line ending)
            assert (hunk.start, hunk.end, hunk.old_text) == (0, 0, "")
        assert apply_hunks(blank, [hunk]) == text
        assert book.reanchor(proposal, "", None) or proposal.base == ""  # closed again: back to nothing
        assert apply_hunks(proposal.base, proposal.hunks) == text


def test_typing_into_a_proposed_new_file_is_a_conflict_not_a_mangled_merge() -> None:
    book = ProposalBook()
    proposal = _proposal("", "x = 1\ny = 2\n", kind="create")
    book.reanchor(proposal, "\n", 1)
    report = book.reanchor(proposal, "mine\n", 2)
    assert report.conflicts == ["h1"]
    [hunk] = proposal.hunks
    assert (hunk.old_text, hunk.new_text) == ("mine\n", "x = 1\ny = 2\n")
