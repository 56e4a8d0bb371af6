"""Project memory files: instructions the user keeps for agents in the repository, and accepted notes.

``AGENTS.md``, ``CLAUDE.md`` and ``.agentls/memory.md``, at the workspace root and in every
directory between the root and the files in play (outermost first), like Claude Code and Codex.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NAMES = ("AGENTS.md", "CLAUDE.md", ".agentls/memory.md")
#: Where accepted notes go (relative to the workspace root).
NOTES_FILE = ".agentls/memory.md"
NOTES_HEADER = "# Project memory\n\nNotes agentls sessions proposed and you accepted. Edit freely.\n\n"
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


_NOTES_LOCK = threading.Lock()


def append_note(root: Path, note: str) -> Path:
    """Append an accepted note to ``.agentls/memory.md`` (created with a header), atomically."""
    import os

    from agentls.atomic import replace_atomically

    path = root / NOTES_FILE
    with _NOTES_LOCK:  # two sessions' notes accepted at once: neither may be lost
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise OSError(f"{NOTES_FILE} is a symlink; not writing through it")
        try:
            current = path.read_bytes()  # bytes: a file in another encoding is kept as it is
        except FileNotFoundError:
            current = NOTES_HEADER.encode("utf-8")
        if current and not current.endswith(b"\n"):
            current += b"\n"
        line = f"- {' '.join(note.split())}\n".encode()
        if line in current:
            return path  # already remembered
        mode = os.stat(path).st_mode & 0o777 if path.exists() else 0o644
        replace_atomically(path, current + line, mode)
    return path
