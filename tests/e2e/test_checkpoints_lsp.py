"""Checkpoints from the editor: every accept is preceded by one; list, diff, restore, undo the restore."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.test_inline_edits import (
    HINTED,
    SOURCE,
    Editor,
    type_hints_script,
)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


async def test_accept_list_diff_restore_and_undo(editor: Editor) -> None:
    workspace = editor.workspace
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "start")
    head = git(workspace, "rev-parse", "HEAD")
    (workspace / "notes.txt").write_text("untracked, untouched\n")

    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert editor.client.text(editor.uri) == HINTED
    (workspace / "calc.py").write_text(HINTED)  # the user saves

    checkpoints = await editor.command("agentls.checkpoints.list", {})
    assert checkpoints, "an accept must be preceded by a checkpoint"
    latest = checkpoints[0]
    assert latest["trigger"] == "accept"
    assert "calc.py" in latest["files"]

    diff = (await editor.command("agentls.checkpoints.diff", {"id": latest["id"]}))["diff"]
    assert "-def add(a, b):" in diff
    assert "+def add(a: int, b: int) -> int:" in diff

    result = await editor.command("agentls.checkpoints.restore", {"id": latest["id"]})
    assert "calc.py" in result["restored"]
    assert result["safetyCheckpoint"]
    # The open buffer was restored through the editor (workspace/applyEdit), not behind its back.
    assert editor.client.text(editor.uri) == SOURCE
    assert (workspace / "notes.txt").read_text() == "untracked, untouched\n"

    # The editor saves the restored buffer. (Checkpoints snapshot files on disk: an open buffer's
    # unsaved text is the editor's, so the restore changed the buffer and left saving to the editor.)
    assert (workspace / "calc.py").read_text() == HINTED
    (workspace / "calc.py").write_text(editor.client.text(editor.uri))

    # A restore is itself undoable.
    await editor.command("agentls.checkpoints.restore", {"id": result["safetyCheckpoint"]})
    assert editor.client.text(editor.uri) == HINTED
    assert git(workspace, "rev-parse", "HEAD") == head  # the user's repository never moved
    assert git(workspace, "stash", "list") == ""


async def test_unknown_checkpoint_is_a_clear_error(editor: Editor) -> None:
    with pytest.raises(JsonRpcException, match="checkpoint"):
        await editor.command("agentls.checkpoints.diff", {"id": "deadbeef"})
    with pytest.raises(JsonRpcException, match="'id'"):
        await editor.command("agentls.checkpoints.restore", {})


@pytest.mark.parametrize("limit", [10**20, 1e20, True, 0, "5"])
async def test_a_bad_limit_is_invalid_params(editor: Editor, limit: object) -> None:
    with pytest.raises(JsonRpcException, match="'limit' must be an integer") as caught:
        await editor.command("agentls.checkpoints.list", {"limit": limit})
    assert caught.value.code == -32602  # InvalidParams, not RequestFailed
