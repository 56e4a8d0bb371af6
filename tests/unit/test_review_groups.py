"""Grouping the hunks of one proposal (``edits.groups``), the warnings a partial accept gets
(``workflows.review_checks``), and the reviewer with a stand-in front end: new, deleted and modified
files, conflicts, and what a plan step learns."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from agentls.agent.overlay import FileChange
from agentls.edits.groups import edit_spans, group_hunks, links
from agentls.edits.hunks import Hunk, apply_hunks, diff_hunks
from agentls.edits.proposal import Proposal, build_proposal
from agentls.workflows.review_checks import group_warnings, syntax_warnings
from agentls.workflows.reviewer import Reviewer


def test_edit_spans_follow_later_edits() -> None:
    spans = edit_spans([], "a\nb\nc\n", "a\nB\nc\n")
    assert spans == [(2, 3)]
    spans = edit_spans(spans, "a\nB\nc\n", "top\na\nB\nc\n")  # an edit above moves the first one
    assert spans == [(6, 7), (0, 4)]


def test_hunks_one_edit_wrote_are_one_group() -> None:
    base, after = "a = 1\nb\nc = 3\n", "a = f(1,\nb\n,3)\n"
    hunks = diff_hunks(base, after)
    spans = edit_spans([], base, after)
    assert len(hunks) == 2
    assert set(group_hunks(hunks, links(hunks, spans)).values()) == {"g1"}
    assert group_hunks(hunks, links(hunks, [])) == {"h1": "g1", "h2": "g2"}


def test_a_name_defined_in_one_hunk_and_used_in_another() -> None:
    base = "import os\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n"
    after = base.replace("import os\n", "import os\nLIMIT = 3\n").replace("return 2", "return LIMIT")
    hunks = diff_hunks(base, after)
    found = links(hunks)
    assert [(link.first, link.second, link.name) for link in found] == [("h1", "h2", "LIMIT")]
    proposal = build_proposal(path="m.py", uri="file:///w/m.py", version=1, base=base, after=after, summary="")
    assert proposal is not None
    labels = proposal.labels()
    assert labels == {"h1": "change 1 of 2, line 2", "h2": "change 2 of 2, line 9"}
    assert group_warnings(proposal, ["h2"], labels) == [
        "change 2 of 2, line 9 uses `LIMIT`, defined by change 1 of 2, line 2, which you did not accept"]
    proposal.mark(["h2"], "rejected")
    assert group_warnings(proposal, ["h1"], labels) == [
        "change 1 of 2, line 2 defines `LIMIT`, used by change 2 of 2, line 9, which you rejected"]
    assert group_warnings(proposal, ["h1", "h2"], labels) == []


def test_a_partial_accept_that_breaks_the_syntax_says_where() -> None:
    [first, _] = diff_hunks("a = 1\nb\nc = 3\n", "a = f(1,\nb\n,3)\n")
    [warning] = syntax_warnings("shapes.py", "a = 1\nb\nc = 3\n", [first])
    assert warning.startswith("the accepted changes leave a syntax error at line 1 of shapes.py:")
    assert syntax_warnings("notes.txt", "a\n", [Hunk("h1", 0, 2, "a\n", "(\n")]) == []  # no grammar


class Front:
    """A front end holding one text per uri; apply edits it, like an editor."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.shown: list[dict[str, Any]] = []
        self.warnings: list[str] = []

    def current(self, proposal: Proposal) -> tuple[str, int | None]:
        return self.texts.get(proposal.uri, ""), None

    async def apply(self, proposal: Proposal, text: str, version: int | None, hunks: Sequence[Hunk], *,
                    confirm: bool) -> bool:
        self.texts[proposal.uri] = apply_hunks(text, hunks)
        return True

    def can_confirm(self) -> bool:
        return False

    def show(self, proposal: Proposal) -> None:
        self.shown.append(proposal.to_dict())

    def resolved(self, proposal: Proposal, hunk_ids: Sequence[str]) -> None:
        pass

    def changed(self, uri: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def _outcome(*changes: FileChange) -> Any:
    return SimpleNamespace(overlay=SimpleNamespace(changes=lambda: list(changes)),
                           result=SimpleNamespace(summary="done"), issues={})


async def test_new_deleted_and_conflicting_files_are_reviewed_and_a_rejection_is_reported() -> None:
    front = Front({"file:///w/old.py": "x = 1\n", "file:///w/a.py": "a = 1\nb = 2\n"})
    reviewer = Reviewer(front)
    outcome = _outcome(FileChange("new.py", None, "n = 1\n"), FileChange("old.py", "x = 1\n", None),
                       FileChange("a.py", "a = 1\nb = 2\n", "a = 10\nb = 2\n"))
    front.texts["file:///w/a.py"] = "a = 5\nb = 2\n"  # the user changed the line meanwhile
    count = await reviewer.present("s1", outcome, lambda path: (f"file:///w/{path}", None))
    assert count == 3
    shown = {p["path"]: p for p in front.shown}
    assert shown["new.py"]["kind"] == "create"
    assert [(h["oldText"], h["newText"]) for h in shown["new.py"]["hunks"]] == [("", "n = 1\n")]
    assert shown["old.py"]["kind"] == "delete"
    assert [(h["oldText"], h["newText"]) for h in shown["old.py"]["hunks"]] == [("x = 1\n", "")]
    [conflict] = shown["a.py"]["hunks"]
    assert (conflict["state"], conflict["currentText"]) == ("conflict", "a = 5\n")
    assert front.warnings == ["your edits to a.py overlap change 1 of 1, line 1: shown as conflicts "
                              "(accept to use the agent's text, or reject)"]

    proposals = reviewer.pending()
    by_path = {p.path: p for p in proposals}
    await reviewer.accept(by_path["new.py"].id, None)
    assert front.texts["file:///w/new.py"] == "n = 1\n"
    kept = await reviewer.accept(by_path["a.py"].id, None)
    assert kept.conflicts == [conflict["id"]]
    assert kept.applied == []
    assert front.texts["file:///w/a.py"] == "a = 5\nb = 2\n"
    assert not by_path["a.py"].resolved  # a conflict waits for the user
    forced = await reviewer.accept(by_path["a.py"].id, [conflict["id"]], force=True)
    assert forced.applied == [conflict["id"]]
    assert front.texts["file:///w/a.py"] == "a = 10\nb = 2\n"
    await reviewer.reject(by_path["old.py"].id, None)
    assert Reviewer.unapplied(proposals) == ["old.py: 1 change rejected"]
    await asyncio.sleep(0)
