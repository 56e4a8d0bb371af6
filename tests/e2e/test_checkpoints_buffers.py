"""Checkpoints follow the buffers, not the disk: an accept is checkpointed as the buffer was (unsaved typing
included), diffs compare against the buffers, and restoring after two accepts undoes exactly the accepted
changes and keeps what the user typed, through ``workspace/applyEdit`` (the disk under the open buffer is
left alone). The real server over stdio; the test client edits its copy of the document like an editor.
"""

from __future__ import annotations

import re
from datetime import datetime

from tests.e2e.harness import change_document, open_document
from tests.e2e.test_inline_edits import (
    SOURCE,
    Editor,
    edit,
    type_hints_script,
)
from tests.fakes.messages_api import Reply

ADD = "def add(a: int, b: int) -> int:"
SUB = "def sub(a: int, b: int) -> int:"


def _type(editor: Editor, line: int, text: str) -> None:
    """The user types ``text`` at the start of ``line`` (unsaved)."""
    version = editor.client.documents[editor.uri][0] + 1
    change_document(editor.client, editor.uri, version, (line, 0), (line, 0), text)


async def _settled(editor: Editor, expected: str) -> None:
    """Wait until the server's copy of the buffer is ``expected`` (a code action round trip orders it)."""
    await editor.client.wait_until(lambda: editor.client.text(editor.uri) == expected)
    await editor.code_actions((0, 0), (0, 0))


async def test_restore_after_two_accepts_keeps_the_typing(editor: Editor) -> None:
    calc = editor.workspace / "calc.py"
    _type(editor, 0, "# mine 1\n")  # typed, never saved
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints", (1, 0), (7, 0))
    proposal = await editor.proposal()
    first, second = proposal["hunks"]

    await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [first["id"]]})
    typed_once = "# mine 1\n" + SOURCE.replace("def add(a, b):", ADD)
    await _settled(editor, typed_once)
    _type(editor, 4, "# mine 2\n")  # between the functions, still unsaved
    await _settled(editor, typed_once.replace("\n\ndef sub", "\n# mine 2\n\ndef sub"))
    await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [second["id"]]})
    both = "# mine 1\n" + SOURCE.replace("def add(a, b):", ADD).replace("\n\ndef sub(a, b):", f"\n# mine 2\n\n{SUB}")
    await _settled(editor, both)
    _type(editor, 0, "# mine 3\n")  # typed after the last accept
    now = "# mine 3\n" + both
    await _settled(editor, now)
    assert calc.read_text() == SOURCE  # nothing was saved

    checkpoints = await editor.command("agentls.checkpoints.list", {})
    accepts = [c for c in checkpoints if c["trigger"] == "accept"]
    assert len(accepts) == 2
    before_first = accepts[-1]
    # Readable times besides the old numeric one.
    assert isinstance(before_first["time"], float)
    assert re.fullmatch(r"\d\d:\d\d:\d\d", before_first["when"]), before_first["when"]
    created = datetime.fromisoformat(before_first["createdAt"])
    assert created.tzinfo is not None
    assert abs(created.timestamp() - before_first["time"]) < 1

    # The diff compares the checkpoint (the buffer before the first accept) with the buffer now.
    diff = (await editor.command("agentls.checkpoints.diff", {"id": before_first["id"]}))["diff"]
    assert "-def add(a, b):" in diff
    assert f"+{ADD}" in diff
    assert f"+{SUB}" in diff
    assert "+# mine 2" in diff
    assert "+# mine 3" in diff
    assert "+# mine 1" not in diff  # in both: context at most, never a change
    assert "-# mine 1" not in diff

    result = await editor.command("agentls.checkpoints.restore", {"id": before_first["id"]})
    assert "calc.py" in result["restored"]
    # Both accepted changes undone; all three typed lines kept; the disk under the open buffer untouched.
    await editor.client.wait_until(lambda: ADD not in editor.client.text(editor.uri))
    assert editor.client.text(editor.uri) == "# mine 3\n# mine 1\n" + SOURCE.replace(
        "\n\ndef sub", "\n# mine 2\n\ndef sub")
    assert calc.read_text() == SOURCE

    # The restore is undoable: its safety checkpoint holds the buffer as it was (accepts and typing).
    await _settled(editor, editor.client.text(editor.uri))
    await editor.command("agentls.checkpoints.restore", {"id": result["safetyCheckpoint"]})
    await editor.client.wait_until(lambda: editor.client.text(editor.uri) == now)


async def test_a_checkpoint_of_an_accept_holds_the_unsaved_buffer(editor: Editor) -> None:
    _type(editor, 0, "# unsaved\n")
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints", (1, 0), (7, 0))
    proposal = await editor.proposal()
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    latest = (await editor.command("agentls.checkpoints.list", {}))[0]
    assert latest["trigger"] == "accept"
    diff = (await editor.command("agentls.checkpoints.diff", {"id": latest["id"]}))["diff"]
    assert "+# unsaved" not in diff  # the checkpoint has it already: not a difference
    assert " # unsaved" in diff
    assert f"+{ADD}" in diff


async def test_restore_keeps_an_accepted_change_the_user_edited_and_other_buffers(editor: Editor) -> None:
    notes_path = editor.workspace / "notes.py"
    notes_path.write_text("x = 1\n")
    notes = open_document(editor.client, notes_path, "python", "x = 1\n")
    change_document(editor.client, notes, 2, (1, 0), (1, 0), "y = 2\n")  # unsaved typing elsewhere
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    hinted = SOURCE.replace("def add(a, b):", ADD).replace("def sub(a, b):", SUB)
    await _settled(editor, hinted)
    # The user rewrites the accepted line of add: that accepted change is now theirs too.
    line = ADD.replace("-> int", "-> float")
    version = editor.client.documents[editor.uri][0] + 1
    change_document(editor.client, editor.uri, version, (0, 0), (0, len(ADD)), line)
    await _settled(editor, hinted.replace(ADD, line))

    accept = next(c for c in await editor.command("agentls.checkpoints.list", {}) if c["trigger"] == "accept")
    result = await editor.command("agentls.checkpoints.restore", {"id": accept["id"]})
    assert result["restored"] == ["calc.py"]
    await editor.client.wait_until(lambda: SUB not in editor.client.text(editor.uri))
    assert editor.client.text(editor.uri) == SOURCE.replace("def add(a, b):", line)
    assert editor.client.text(notes) == "x = 1\ny = 2\n"  # not the checkpoint's business: untouched
    await editor.client.wait_until(lambda: any("edited over" in m.message for m in editor.client.messages))


async def test_restoring_before_an_accepted_new_file_deletes_it(editor: Editor) -> None:
    editor.fake.add(
        Reply([edit("create", path="tests/test_calc.py", file_text="def test_add():\n    assert True\n")]),
        Reply.text("Added a test."),
    )
    await editor.command("agentls.task", {"instruction": "test add"})
    proposal = await editor.proposal()
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    created = editor.workspace / "tests" / "test_calc.py"
    assert created.read_text() == "def test_add():\n    assert True\n"

    accept = next(c for c in await editor.command("agentls.checkpoints.list", {}) if c["trigger"] == "accept")
    diff = (await editor.command("agentls.checkpoints.diff", {"id": accept["id"]}))["diff"]
    assert "new file mode" in diff  # absent at the checkpoint, not an empty file
    result = await editor.command("agentls.checkpoints.restore", {"id": accept["id"]})
    assert result["deleted"] == ["tests/test_calc.py"]
    assert not created.exists()
