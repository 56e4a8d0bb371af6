"""Hunks that depend on each other are grouped; accepting part of a group warns, and the partly accepted
text is checked for syntax errors (the real server over stdio, the fake Messages API)."""

from __future__ import annotations

from tests.e2e.test_inline_edits import (
    Editor,
    edit,
)
from tests.fakes.messages_api import Reply


async def test_half_of_one_edit_warns_and_its_syntax_error_is_reported(editor: Editor) -> None:
    (editor.workspace / "shapes.py").write_text("a = 1\nb\nc = 3\n")
    editor.fake.add(Reply([edit("str_replace", path="shapes.py", old_str="a = 1\nb\nc = 3",
                                new_str="a = f(1,\nb\n,3)")]), Reply.text("Called f."))
    await editor.command("agentls.task", {"instruction": "call f"})
    proposal = await editor.proposal()
    first, second = proposal["hunks"]
    assert first["group"] == second["group"]  # one edit, split in two hunks by the diff
    assert [h["label"] for h in proposal["hunks"]] == ["change 1 of 2, line 1", "change 2 of 2, line 3"]
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [first["id"]]})
    assert result["applied"] == [first["id"]]
    assert result["warnings"][0] == ("change 1 of 2, line 1 and change 2 of 2, line 3 come from one edit; "
                                     "change 2 of 2, line 3 was not accepted")
    assert any(w.startswith("the accepted changes leave a syntax error at line") for w in result["warnings"])
    assert not any(h in w for w in result["warnings"] for h in (first["id"], second["id"], proposal["id"]))
    # The client shows the warnings it got back: the server does not show them a second time.
    assert not [m for m in editor.client.messages if "come from one edit" in m.message]


async def test_a_name_defined_in_one_change_and_used_in_another(editor: Editor) -> None:
    editor.fake.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):\n    return a + b",
                    new_str="def add(a, b):\n    total = a + b\n    return a + b"),
               edit("str_replace", path="calc.py", old_str="    return a - b", new_str="    return a - b + total")]),
        Reply.text("Used total."))
    await editor.edit("use total")
    proposal = await editor.proposal()
    first, second = proposal["hunks"]
    assert first["group"] == second["group"]
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [second["id"]]})
    assert result["warnings"] == [
        "change 2 of 2, line 6 uses `total`, defined by change 1 of 2, line 2, which you did not accept"]
    rejected = await editor.command("agentls.reject", {"proposalId": proposal["id"]})
    assert rejected["rejected"] == [first["id"]]


async def test_unrelated_changes_are_separate_groups_and_accept_quietly(editor: Editor) -> None:
    editor.fake.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(a: int, b: int):"),
               edit("str_replace", path="calc.py", old_str="def sub(a, b):", new_str="def sub(a: int, b: int):")]),
        Reply.text("Typed."))
    await editor.edit("types")
    proposal = await editor.proposal()
    first, second = proposal["hunks"]
    assert first["group"] != second["group"]
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [first["id"]]})
    assert result["warnings"] == []
