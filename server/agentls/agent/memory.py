"""Project memory files: instructions the user keeps for agents in the repository.

``AGENTS.md``, ``CLAUDE.md`` and ``.agentls/memory.md``, at the workspace root and in every
directory between the root and the files in play (outermost first), like Claude Code and Codex.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NAMES = ("AGENTS.md", "CLAUDE.md", ".agentls/memory.md")
MAX_CHARS = 20_000


@dataclass(frozen=True)
class MemoryFile:
    path: str  # relative to the workspace root, posix
    text: str


def _directories(root: Path, files: Iterable[str]) -> list[Path]:
    dirs: list[Path] = [root]
    for rel in files:
        parts = Path(rel).parts[:-1]
        for depth in range(1, len(parts) + 1):
            candidate = root.joinpath(*parts[:depth])
            if candidate not in dirs:
                dirs.append(candidate)
    return dirs


def load_memory(root: Path, files_in_play: Iterable[str] = ()) -> list[MemoryFile]:
    found: list[MemoryFile] = []
    for directory in _directories(root, files_in_play):
        for name in NAMES:
            path = directory / name
            try:
                if not path.is_file() or path.resolve().parent != (directory / name).parent.resolve():
                    continue  # a symlinked memory file that leads elsewhere is not trusted
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if len(text) > MAX_CHARS:
                text = text[:MAX_CHARS] + f"\n[... truncated: {len(text) - MAX_CHARS} more characters]"
            found.append(MemoryFile(path.relative_to(root).as_posix(), text))
    return found
