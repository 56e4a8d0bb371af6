"""``list_files``: the workspace's files matching a glob, as sorted relative paths.

Ignored (``.gitignore``), deny-listed and ``.git`` paths are left out, symlinks are not followed;
files the agent created in the overlay are listed, files it deleted are not.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from agentls.agent.tools.base import BaseTool, ToolContext, ToolInput, ToolResult
from agentls.agent.workspace import glob_matches, path_key

MAX_FILES = 1_000


class ListFilesInput(ToolInput):
    glob: str = Field(
        "**/*",
        description="gitignore-style glob relative to `path`: '*.py' matches at any depth, "
        "'src/*.py' only directly in src, '**' spans directories.",
    )
    path: str = Field(".", description="Directory to list, relative to the workspace root.")


class ListFilesTool(BaseTool[ListFilesInput]):
    name: ClassVar[str] = "list_files"
    description: ClassVar[str] = (
        "List the workspace's files matching a glob, as paths relative to the workspace root, sorted. "
        "Files ignored by .gitignore and secrets are left out. Use it to find files by name."
    )
    read_only: ClassVar[bool] = True
    input_model = ListFilesInput

    def __init__(self, max_files: int = MAX_FILES) -> None:
        self.max_files = max_files

    async def execute(self, params: ListFilesInput, ctx: ToolContext) -> ToolResult:
        workspace, overlay = ctx.workspace, ctx.overlay
        base = overlay.key(params.path)
        touched = overlay.touched()
        files = set(workspace.iter_files(params.glob, base))
        for path, text in touched.items():
            if text is None:
                files.discard(path)
            elif path not in files and workspace.shown_under(base, path):
                below = path if base == "." else path[len(base) + 1 :]
                if glob_matches(params.glob, below):
                    files.add(path)
        listing = sorted(files, key=path_key)
        where = "the workspace" if base == "." else base
        if not listing:
            return ToolResult(f"No files match {params.glob!r} in {where}.")
        shown = listing[: self.max_files]
        text = "\n".join(shown)
        if len(listing) > len(shown):
            text += f"\n({len(listing) - len(shown)} more files not shown; narrow the glob or path)"
        return ToolResult(text)
