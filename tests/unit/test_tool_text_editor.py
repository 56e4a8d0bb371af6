"""The text editor tool (text_editor_20250728 semantics) over the overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentls.agent.overlay import Overlay
from agentls.agent.tools.base import ToolContext, ToolResult
from agentls.agent.tools.text_editor import TextEditorTool, fuzzy_find
from agentls.agent.workspace import Workspace
from agentls.config import ToolsSettings
from agentls.store.audit import AuditLog

PY = "def f():\n    x = 1\n    return x\n\n\ndef g():\n    return 2\n"


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "m.py").write_text(PY)
    settings = ToolsSettings()
    workspace = Workspace(root, settings.deny, settings.max_file_bytes)
    return ToolContext(workspace, Overlay(workspace), settings, "s1", AuditLog(tmp_path / "audit.jsonl"))


async def call(ctx: ToolContext, **input: Any) -> ToolResult:
    return await TextEditorTool().run(input, ctx)


def test_definition_is_anthropics() -> None:
    assert TextEditorTool().definition() == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
    }
    assert TextEditorTool(20_000).definition()["max_characters"] == 20_000


# -- view ------------------------------------------------------------------------------------


async def test_view_file_numbers_lines_like_cat_n(ctx: ToolContext) -> None:
    result = await call(ctx, command="view", path="m.py")
    assert not result.is_error
    assert result.content.startswith("Here's the result of running `cat -n` on m.py:\n")
    assert "     1\tdef f():\n     2\t    x = 1\n" in result.content
    assert "     7\t    return 2\n" in result.content
    assert "     8" not in result.content  # a final newline is not an extra line


async def test_view_range(ctx: ToolContext) -> None:
    result = await call(ctx, command="view", path="m.py", view_range=[2, 3])
    assert result.content.splitlines()[1:] == ["     2\t    x = 1", "     3\t    return x"]
    to_end = await call(ctx, command="view", path="m.py", view_range=[6, -1])
    assert to_end.content.splitlines()[1:] == ["     6\tdef g():", "     7\t    return 2"]
    bad = await call(ctx, command="view", path="m.py", view_range=[9, 10])
    assert bad.is_error
    assert "[1, 7]" in bad.content
    backwards = await call(ctx, command="view", path="m.py", view_range=[3, 2])
    assert backwards.is_error


async def test_view_clips_at_max_characters(ctx: ToolContext) -> None:
    (ctx.workspace.root / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 1001)))
    result = await TextEditorTool(max_characters=200).run({"command": "view", "path": "long.txt"}, ctx)
    assert "response clipped" in result.content
    assert "view_range" in result.content
    assert len(result.content) < 400


async def test_view_directory_two_levels_without_hidden_or_ignored(ctx: ToolContext) -> None:
    root = ctx.workspace.root
    for name in ("src/pkg/deep/x.py", "src/a.py", ".hidden/h.txt", "build/out.js", ".env"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    (root / ".gitignore").write_text("build/\n")
    await call(ctx, command="create", path="src/new.py", file_text="new")
    result = await call(ctx, command="view", path=".")
    listing = result.content.splitlines()[1:]
    assert listing == ["m.py", "src/", "src/a.py", "src/new.py", "src/pkg/"]
    sub = await call(ctx, command="view", path="src")
    assert sub.content.splitlines()[1:] == ["src/a.py", "src/new.py", "src/pkg/", "src/pkg/deep/"]
    ranged = await call(ctx, command="view", path="src", view_range=[1, 2])
    assert ranged.is_error


async def test_view_missing_file(ctx: ToolContext) -> None:
    result = await call(ctx, command="view", path="nope.py")
    assert result.is_error
    assert "does not exist" in result.content


# -- create ----------------------------------------------------------------------------------


async def test_create_and_refuse_over_existing(ctx: ToolContext) -> None:
    result = await call(ctx, command="create", path="pkg/new.py", file_text="x = 1\n")
    assert not result.is_error
    assert "pkg/new.py" in result.content
    assert ctx.overlay.read("pkg/new.py") == "x = 1\n"
    assert not (ctx.workspace.root / "pkg").exists()  # the overlay, not the disk
    again = await call(ctx, command="create", path="m.py", file_text="boom")
    assert again.is_error
    assert "already exists" in again.content
    assert "str_replace" in again.content
    assert ctx.overlay.read("m.py") == PY


# -- str_replace -----------------------------------------------------------------------------


async def test_str_replace_unique(ctx: ToolContext) -> None:
    result = await call(ctx, command="str_replace", path="m.py", old_str="x = 1", new_str="x = 41")
    assert not result.is_error
    assert "has been edited" in result.content
    assert "     2\t    x = 41" in result.content
    assert ctx.overlay.read("m.py") == PY.replace("x = 1", "x = 41")


async def test_str_replace_empty_new_str_deletes(ctx: ToolContext) -> None:
    result = await call(ctx, command="str_replace", path="m.py", old_str="    x = 1\n", new_str="")
    assert not result.is_error
    assert ctx.overlay.read("m.py") == PY.replace("    x = 1\n", "")


async def test_str_replace_no_match(ctx: ToolContext) -> None:
    result = await call(ctx, command="str_replace", path="m.py", old_str="y = 2", new_str="z")
    assert result.is_error
    assert "did not appear verbatim" in result.content
    assert ctx.overlay.read("m.py") == PY


async def test_str_replace_several_matches_lists_lines(ctx: ToolContext) -> None:
    result = await call(ctx, command="str_replace", path="m.py", old_str="return", new_str="yield")
    assert result.is_error
    assert "Multiple occurrences" in result.content
    assert "[3, 7]" in result.content
    assert ctx.overlay.read("m.py") == PY


async def test_crlf_file_stays_crlf(ctx: ToolContext) -> None:
    (ctx.workspace.root / "w.txt").write_bytes(b"alpha\r\nbeta\r\ngamma\r\n")
    result = await call(
        ctx, command="str_replace", path="w.txt", old_str="alpha\nbeta", new_str="one\ntwo\nthree"
    )
    assert not result.is_error
    assert "whitespace-normalised" not in result.content
    assert ctx.overlay.read("w.txt") == "one\r\ntwo\r\nthree\r\ngamma\r\n"
    await call(ctx, command="insert", path="w.txt", insert_line=1, insert_text="inserted\n")
    assert ctx.overlay.read("w.txt") == "one\r\ninserted\r\ntwo\r\nthree\r\ngamma\r\n"


async def test_whitespace_normalised_match_trailing_spaces(ctx: ToolContext) -> None:
    (ctx.workspace.root / "t.py").write_text("a = 1   \nb = 2\t\nc = 3\n")
    result = await call(
        ctx, command="str_replace", path="t.py", old_str="a = 1\nb = 2\n", new_str="a = 10\nb = 20\n"
    )
    assert not result.is_error
    assert "whitespace-normalised match" in result.content
    assert ctx.overlay.read("t.py") == "a = 10\nb = 20\nc = 3\n"


async def test_whitespace_normalised_match_reindents_new_str(ctx: ToolContext) -> None:
    (ctx.workspace.root / "c.py").write_text("class C:\n    def m(self):\n        if x:\n            go()\n")
    old = "def m(self):\n    if x:\n        go()"  # the model dropped one level of indentation
    new = "def m(self):\n    if x and y:\n        go()\n        stop()"
    result = await call(ctx, command="str_replace", path="c.py", old_str=old, new_str=new)
    assert not result.is_error
    assert "indentation shifted by +4 spaces" in result.content
    assert "re-indented" in result.content
    assert ctx.overlay.read("c.py") == (
        "class C:\n    def m(self):\n        if x and y:\n            go()\n            stop()\n"
    )


async def test_whitespace_normalised_match_less_indented_file(ctx: ToolContext) -> None:
    (ctx.workspace.root / "d.py").write_text("if a:\n  b()\n  c()\n")
    result = await call(
        ctx, command="str_replace", path="d.py", old_str="    b()\n    c()\n", new_str="    d()\n"
    )
    assert not result.is_error
    assert "-2 spaces" in result.content
    assert ctx.overlay.read("d.py") == "if a:\n  d()\n"


async def test_whitespace_normalised_match_refused_when_ambiguous(ctx: ToolContext) -> None:
    text = "def a():\n    pass\n\ndef b():\n        pass\n"
    (ctx.workspace.root / "amb.py").write_text(text)
    result = await call(ctx, command="str_replace", path="amb.py", old_str="  pass", new_str="  return")
    assert result.is_error
    assert "Multiple occurrences" in result.content
    fuzzy = await call(ctx, command="str_replace", path="amb.py", old_str="pass  \n", new_str="return\n")
    assert fuzzy.is_error
    assert "several places" in fuzzy.content
    assert "[2, 5]" in fuzzy.content
    assert ctx.overlay.read("amb.py") == text


def test_fuzzy_needs_uniform_shift() -> None:
    text = "    a\n        b\n"
    assert fuzzy_find(text, "a\n    b\n")  # uniform +4
    assert not fuzzy_find(text, "a\nb\n")  # +4 then +8: not uniform


# -- insert ----------------------------------------------------------------------------------


async def test_insert_after_line_and_at_top(ctx: ToolContext) -> None:
    result = await call(ctx, command="insert", path="m.py", insert_line=1, insert_text="    '''doc'''")
    assert not result.is_error
    assert "     2\t    '''doc'''" in result.content
    assert ctx.overlay.read("m.py").startswith("def f():\n    '''doc'''\n    x = 1\n")
    await call(ctx, command="insert", path="m.py", insert_line=0, insert_text="import os\n")
    assert ctx.overlay.read("m.py").startswith("import os\ndef f():\n")


async def test_insert_at_end_keeps_final_newline_state(ctx: ToolContext) -> None:
    (ctx.workspace.root / "n.txt").write_text("a\nb")
    await call(ctx, command="insert", path="n.txt", insert_line=2, insert_text="c\n")
    assert ctx.overlay.read("n.txt") == "a\nb\nc"
    await call(ctx, command="insert", path="m.py", insert_line=7, insert_text="# end")
    assert ctx.overlay.read("m.py") == PY + "# end\n"


async def test_insert_out_of_range(ctx: ToolContext) -> None:
    result = await call(ctx, command="insert", path="m.py", insert_line=8, insert_text="x")
    assert result.is_error
    assert "[0, 7]" in result.content
    negative = await call(ctx, command="insert", path="m.py", insert_line=-1, insert_text="x")
    assert negative.is_error


async def test_insert_accepts_new_str_spelling(ctx: ToolContext) -> None:
    result = await call(ctx, command="insert", path="m.py", insert_line=0, new_str="# top")
    assert not result.is_error
    assert ctx.overlay.read("m.py").startswith("# top\n")


# -- errors, safety, audit -------------------------------------------------------------------


async def test_undo_edit_and_unknown_command_and_bad_input(ctx: ToolContext) -> None:
    undo = await call(ctx, command="undo_edit", path="m.py")
    assert undo.is_error
    assert "undo_edit" in undo.content
    unknown = await call(ctx, command="delete", path="m.py")
    assert unknown.is_error
    assert "view, create, str_replace, insert" in unknown.content
    missing = await call(ctx, command="view")
    assert missing.is_error
    assert "'path' is required" in missing.content
    wrong_type = await call(ctx, command="insert", path="m.py", insert_line="two", insert_text="x")
    assert wrong_type.is_error
    assert "insert_line" in wrong_type.content
    no_old = await call(ctx, command="str_replace", path="m.py", new_str="x")
    assert no_old.is_error
    assert "old_str" in no_old.content


@pytest.mark.parametrize("path", ["../x.py", "/etc/passwd", ".env", ".git/config"])
async def test_paths_outside_or_denied_are_errors(ctx: ToolContext, path: str) -> None:
    for input in (
        {"command": "view", "path": path},
        {"command": "create", "path": path, "file_text": "x"},
        {"command": "str_replace", "path": path, "old_str": "a", "new_str": "b"},
    ):
        result = await call(ctx, **input)
        assert result.is_error
        assert "outside the workspace" in result.content or "deny-list" in result.content


async def test_binary_file_is_refused(ctx: ToolContext) -> None:
    (ctx.workspace.root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = await call(ctx, command="view", path="img.png")
    assert result.is_error
    assert "binary" in result.content


async def test_writes_are_audited(ctx: ToolContext) -> None:
    await call(ctx, command="create", path="a.txt", file_text="x")
    await call(ctx, command="str_replace", path="m.py", old_str="x = 1", new_str="x = 2")
    assert ctx.audit is not None
    entries = ctx.audit.read()
    assert [(e["event"], e["path"], e["session"]) for e in entries] == [
        ("file_written", "a.txt", "s1"),
        ("file_written", "m.py", "s1"),
    ]
