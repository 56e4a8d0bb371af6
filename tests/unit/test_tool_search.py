"""search and list_files: ripgrep and the Python fallback agree; ignores, deny-list and overlay."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from agentls.agent.overlay import Overlay
from agentls.agent.tools.base import ToolContext, ToolResult
from agentls.agent.tools.list_files import ListFilesTool
from agentls.agent.tools.search import SearchTool
from agentls.agent.workspace import Workspace
from agentls.config import ToolsSettings

HAS_RG = shutil.which("rg") is not None
FILES = {
    "a.py": "import os\nTODO = 1\n",
    "a b.txt": "todo: spaces in the name\n",
    "a/z.py": "def todo():\n    return 'TODO'\n",
    "src/app.py": "# TODO: refactor\nclass App:\n    pass\r\n",
    "src/util/helpers.py": "def helper():\n    # TODO later\n    return 1\n",
    "docs/readme.md": "Nothing to do here. TODO\n",
    ".github/ci.yml": "# TODO ci\n",
    "build/gen.py": "TODO generated\n",
    "debug.log": "TODO log\n",
    "src/.gitignore": "secret_notes.txt\n",
    "src/secret_notes.txt": "TODO private\n",
    ".env": "TODO=sk-ant-xyz\n",
    "certs/server.pem": "TODO pem\n",
    "data.bin": "TODO\x00binary",
}


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    root = tmp_path / "ws"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode())
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("TODO in git\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.py").write_text("TODO outside\n")
    (root / "outlink").symlink_to(outside, target_is_directory=True)
    settings = ToolsSettings()
    workspace = Workspace(root, settings.deny, settings.max_file_bytes)
    return ToolContext(workspace, Overlay(workspace), settings)


async def search(ctx: ToolContext, rg: bool, **input: Any) -> ToolResult:
    return await SearchTool(use_ripgrep=rg).run(input, ctx)


EXPECTED_TODO = [
    ".github/ci.yml:1:# TODO ci",
    "a/z.py:2:    return 'TODO'",
    "a.py:2:TODO = 1",
    "docs/readme.md:1:Nothing to do here. TODO",
    "src/app.py:1:# TODO: refactor",
    "src/util/helpers.py:2:    # TODO later",
]


@pytest.mark.parametrize(
    "rg", [pytest.param(True, marks=pytest.mark.skipif(not HAS_RG, reason="no rg")), False]
)
async def test_search_honours_ignores_and_deny_list(ctx: ToolContext, rg: bool) -> None:
    result = await search(ctx, rg, pattern="TODO")
    assert not result.is_error
    assert result.content.splitlines() == EXPECTED_TODO


@pytest.mark.skipif(not HAS_RG, reason="ripgrep is not installed")
@pytest.mark.parametrize(
    "input",
    [
        {"pattern": "TODO"},
        {"pattern": "todo", "case_sensitive": False},
        {"pattern": "todo", "case_sensitive": False, "max_results": 3},
        {"pattern": r"^\s+(return|pass)"},
        {"pattern": "TODO", "glob": "*.py"},
        {"pattern": "TODO", "glob": "src/**/*.py"},
        {"pattern": "TODO", "path": "src"},
        {"pattern": "TODO", "path": "src", "glob": "util/*.py"},
        {"pattern": "TODO", "path": "build"},
        {"pattern": "pass$"},
        {"pattern": "nothing matches this"},
        {"pattern": "TODO(?= ci)"},  # look-ahead: ripgrep refuses it, the fallback answers
    ],
)
async def test_ripgrep_and_fallback_give_identical_results(ctx: ToolContext, input: dict[str, Any]) -> None:
    with_rg = await search(ctx, True, **input)
    fallback = await search(ctx, False, **input)
    assert with_rg == fallback


async def test_cap_and_more_note(ctx: ToolContext) -> None:
    result = await search(ctx, False, pattern="todo", case_sensitive=False, max_results=2)
    lines = result.content.splitlines()
    assert lines[:2] == [".github/ci.yml:1:# TODO ci", "a/z.py:1:def todo():"]
    assert lines[2] == "(6 more matches not shown; narrow the pattern, path or glob)"


@pytest.mark.parametrize(
    "rg", [pytest.param(True, marks=pytest.mark.skipif(not HAS_RG, reason="no rg")), False]
)
async def test_search_sees_the_overlay(ctx: ToolContext, rg: bool) -> None:
    ctx.overlay.write("a.py", "import os\nFIXME = 1\n")
    ctx.overlay.write("src/new.py", "# TODO new\n")
    ctx.overlay.delete("docs/readme.md")
    result = await search(ctx, rg, pattern="TODO|FIXME")
    assert result.content.splitlines() == [
        ".github/ci.yml:1:# TODO ci",
        "a/z.py:2:    return 'TODO'",
        "a.py:2:FIXME = 1",
        "src/app.py:1:# TODO: refactor",
        "src/new.py:1:# TODO new",
        "src/util/helpers.py:2:    # TODO later",
    ]


async def test_search_one_file_and_errors(ctx: ToolContext) -> None:
    one = await search(ctx, False, pattern="TODO", path="src/app.py")
    assert one.content == "src/app.py:1:# TODO: refactor"
    bad = await search(ctx, False, pattern="(unclosed")
    assert bad.is_error
    assert "Invalid regular expression" in bad.content
    denied = await search(ctx, False, pattern="TODO", path=".env")
    assert denied.is_error
    assert "deny-list" in denied.content
    outside = await search(ctx, False, pattern="TODO", path="outlink")
    assert outside.is_error
    assert "outside the workspace" in outside.content
    extra = await search(ctx, False, pattern="x", colour="red")
    assert extra.is_error
    assert "unknown field 'colour'" in extra.content
    none = await search(ctx, False, pattern="zzz")
    assert none.content == "No matches for /zzz/ in the workspace."


async def test_list_files(ctx: ToolContext) -> None:
    tool = ListFilesTool()
    everything = await tool.run({}, ctx)
    assert everything.content.splitlines() == [
        ".github/ci.yml",
        ".gitignore",
        "a/z.py",
        "a b.txt",
        "a.py",
        "data.bin",
        "docs/readme.md",
        "src/.gitignore",
        "src/app.py",
        "src/util/helpers.py",
    ]
    py = await tool.run({"glob": "*.py"}, ctx)
    assert py.content.splitlines() == ["a/z.py", "a.py", "src/app.py", "src/util/helpers.py"]
    in_src = await tool.run({"glob": "*.py", "path": "src"}, ctx)
    assert in_src.content.splitlines() == ["src/app.py", "src/util/helpers.py"]
    ctx.overlay.write("src/zz.py", "")
    ctx.overlay.delete("a.py")
    changed = await tool.run({"glob": "*.py"}, ctx)
    assert changed.content.splitlines() == ["a/z.py", "src/app.py", "src/util/helpers.py", "src/zz.py"]
    capped = await ListFilesTool(max_files=2).run({}, ctx)
    assert capped.content.splitlines()[-1] == "(8 more files not shown; narrow the glob or path)"
    nothing = await tool.run({"glob": "*.rs"}, ctx)
    assert nothing.content == "No files match '*.rs' in the workspace."
