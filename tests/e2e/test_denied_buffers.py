"""An open buffer the agent may not read (``.env``, ``.git/COMMIT_EDITMSG``) never stops an edit elsewhere."""

from __future__ import annotations

import pytest

from tests.e2e.harness import open_document
from tests.e2e.test_inline_edits import Editor, type_hints_script


@pytest.mark.parametrize("name", [".env", ".git/COMMIT_EDITMSG"])
async def test_an_open_denied_buffer_does_not_break_an_edit(editor: Editor, name: str) -> None:
    path = editor.workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("SECRET=1\n")
    open_document(editor.client, path, "plaintext", "SECRET=2\n")  # unsaved, and still never read
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    assert proposal["path"] == "calc.py"
    assert all("SECRET" not in str(request.body) for request in editor.fake.message_requests)
