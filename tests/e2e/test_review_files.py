"""Reviewing new and deleted files, and the list of every pending change, over stdio with the real server.

The task is the real SDK against the fake Messages API; the test client opens a proposed new file the way
Neovim does (a buffer of ``"\\n"``) or VS Code does (``""``) and accepts it.
"""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.e2e.harness import change_document, open_document
from tests.e2e.test_inline_edits import (
    Editor,
    edit,
    type_hints_script,
)
from tests.fakes.messages_api import Reply

NEW_TEST = "from util import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


async def _propose_new_file(editor: Editor) -> dict[str, object]:
    (editor.workspace / "util.py").write_text("def double(x):\n    return x * 2\n")
    editor.fake.add(Reply([edit("create", path="tests/test_util.py", file_text=NEW_TEST)]),
                    Reply.text("Tested double."))
    await editor.command("agentls.task", {"instruction": "test double"})
    return await editor.proposal()


@pytest.mark.parametrize("blank", ["\n", ""])
async def test_open_a_proposed_new_file_then_accept_it(editor: Editor, blank: str) -> None:
    proposal = await _propose_new_file(editor)
    assert proposal["kind"] == "create"
    [hunk] = proposal["hunks"]
    assert hunk["newText"] == NEW_TEST
    assert hunk["range"] == {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    assert hunk["label"] == "change 1 of 1, line 1"

    # The notice says to open the file: an empty buffer is not the user's edit.
    path = editor.workspace / "tests" / "test_util.py"
    uri = open_document(editor.client, path, "python", blank)
    await editor.client.diagnostics_for(uri, version=1)
    assert not [m for m in editor.client.messages if "overlap" in m.message or "dropped" in m.message]
    assert not any(h["state"] in ("stale", "conflict") for r in editor.client.resolutions for h in r["hunks"])
    listed = await editor.command("agentls.proposals", {"uri": uri})
    [again] = listed["proposals"]
    assert [h["state"] for h in again["hunks"]] == ["pending"]
    assert again["hunks"][0]["range"]["start"] == {"line": 0, "character": 0}

    result = await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert result["applied"] == [hunk["id"]]
    assert result["warnings"] == []
    assert editor.client.text(uri) == NEW_TEST  # no blank line added or lost
    assert path.exists()  # created on disk for the user to save into


async def test_accept_a_new_file_that_is_not_open(editor: Editor) -> None:
    proposal = await _propose_new_file(editor)
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert (editor.workspace / "tests" / "test_util.py").read_text() == NEW_TEST


async def test_the_list_of_pending_changes_covers_every_file_and_type(editor: Editor) -> None:
    (editor.workspace / "notes.md").write_text("# Notes\n\nsome text\n")
    editor.fake.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(a: int, b: int) -> int:"),
               edit("str_replace", path="notes.md", old_str="some text", new_str="some better text")]),
        Reply.text("Typed add, improved the notes."))
    await editor.command("agentls.task", {"instruction": "improve"})
    await editor.proposal(count=2)
    listed = await editor.command("agentls.proposals", {})
    assert sorted(p["path"] for p in listed["proposals"]) == ["calc.py", "notes.md"]
    for proposal in listed["proposals"]:
        assert {"id", "uri", "path", "kind", "hunks", "summary"} <= set(proposal)
        assert all({"index", "total", "label", "group", "range", "state"} <= set(h) for h in proposal["hunks"])
    calc = next(p for p in listed["proposals"] if p["path"] == "calc.py")
    await editor.command("agentls.accept", {"proposalId": calc["id"]})
    left = await editor.command("agentls.proposals", {})
    assert [p["path"] for p in left["proposals"]] == ["notes.md"]
    only = await editor.command("agentls.proposals", {"uri": editor.uri})
    assert only["proposals"] == []


def _hints(editor: Editor, uri: str) -> list[types.Diagnostic]:
    latest = editor.client.latest_diagnostics(uri)
    return [d for d in (latest.diagnostics if latest else []) if d.severity == types.DiagnosticSeverity.Hint]


async def test_labels_follow_the_text_and_the_accepts(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    assert [h["label"] for h in proposal["hunks"]] == ["change 1 of 2, line 1", "change 2 of 2, line 5"]
    change_document(editor.client, editor.uri, 2, (0, 0), (0, 0), "import math\n")
    shown = await editor.client.wait_until(lambda: next(
        (p for p in editor.client.proposals[1:] if p["hunks"][0]["label"].endswith("line 2")), None))
    assert shown["id"] == proposal["id"]
    assert [h["label"] for h in shown["hunks"]] == ["change 1 of 2, line 2", "change 2 of 2, line 6"]
    await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [proposal["hunks"][0]["id"]]})
    last = await editor.client.wait_until(lambda: next(
        (p for p in editor.client.proposals if len(p["hunks"]) == 1), None))
    assert [h["label"] for h in last["hunks"]] == ["change 1 of 1, line 6"]
