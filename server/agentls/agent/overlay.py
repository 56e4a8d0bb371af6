"""Overlay: the agent's edits land here, in memory, not on disk.

Each file the agent touches gets a state: its disk content when first touched (``before``, None if
it did not exist) and its current content (``after``, None once deleted). Reads see the overlay
first, then the disk. The language server turns ``changes()`` into proposals; the headless CLI
calls ``commit()``, which writes through the workspace (atomic, path-safe) only if no file changed
on disk since the agent first read it.

Keys are workspace-relative posix paths after symlink resolution, so two spellings of one file
share one state. Every access goes through ``Workspace.resolve``: path safety applies here too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agentls.agent.workspace import Workspace
from agentls.edits.groups import edit_spans
from agentls.errors import AgentlsError


@dataclass(frozen=True)
class FileChange:
    """One file's change: ``before`` is the disk content when first touched (None: did not exist),
    ``after`` the content now (None: deleted)."""

    path: str
    before: str | None
    after: str | None
    #: The regions of ``after`` each edit wrote (``edits.groups.edit_spans``): hunks in one belong together.
    edits: tuple[tuple[int, int], ...] = field(default=(), compare=False)


class OverlayConflict(AgentlsError):
    """A file changed on disk after the agent read it; committing would overwrite someone's work."""


@dataclass
class _State:
    before: str | None
    after: str | None
    edits: list[tuple[int, int]] = field(default_factory=list)


class Overlay:
    """In-memory file states over the workspace's disk."""

    def __init__(self, workspace: Workspace, on_commit: Callable[[list[str]], None] | None = None) -> None:
        self.workspace = workspace
        self._states: dict[str, _State] = {}
        self._lock = threading.RLock()
        #: Told the paths each ``commit`` wrote (``run_command`` commits mid-session).
        self.on_commit = on_commit

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its lock and callback (a session's overlay travels from the agent host to the
        server)."""
        with self._lock:
            state = dict(self.__dict__)
        del state["_lock"]
        state["on_commit"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def key(self, path: str | Path) -> str:
        """The state key for ``path``: workspace-relative, symlinks resolved (raises if unsafe)."""
        return self.workspace.relative(self.workspace.resolve(path))

    def _disk(self, rel: str, max_bytes: int | None = None) -> str | None:
        try:
            return self.workspace.read_text(rel, max_bytes=max_bytes)
        except (FileNotFoundError, NotADirectoryError):  # a directory on its path is a file now: no such file
            return None

    def read(self, path: str | Path, *, max_bytes: int | None = None) -> str:
        """The current text: the overlay's if the file was touched, else the disk's.

        Raises ``FileNotFoundError`` when the file does not exist (or was deleted here),
        ``IsADirectoryError``, and the workspace's errors (``FileRefused``, ...).
        """
        rel = self.key(path)
        with self._lock:
            state = self._states.get(rel)
            if state is not None:
                if state.after is None:
                    raise FileNotFoundError(f"{rel} does not exist (deleted in this session)")
                return state.after
        if (self.workspace.root / rel).is_dir():
            raise IsADirectoryError(f"{rel} is a directory")
        text = self._disk(rel, max_bytes)
        if text is None:
            raise FileNotFoundError(f"{rel} does not exist")
        return text

    def exists(self, path: str | Path) -> bool:
        """Whether the file exists as the agent sees it (directories count on disk)."""
        rel = self.key(path)
        with self._lock:
            state = self._states.get(rel)
            if state is not None:
                return state.after is not None
        return (self.workspace.root / rel).exists()

    def is_dir(self, path: str | Path) -> bool:
        rel = self.key(path)
        return (self.workspace.root / rel).is_dir()

    def _touch(self, rel: str) -> _State:
        state = self._states.get(rel)
        if state is None:
            if (self.workspace.root / rel).is_dir():
                raise IsADirectoryError(f"{rel} is a directory")
            before = self._disk(rel)
            state = self._states[rel] = _State(before, before)
        return state

    def seed(self, path: str | Path, text: str) -> str:
        """Start the file from ``text`` instead of the disk (an editor's unsaved buffer).

        ``text`` becomes both its ``before`` and its current content, so ``changes()`` is relative
        to what the user sees, not to the file on disk.
        """
        rel = self.key(path)
        with self._lock:
            self._states[rel] = _State(text, text)
        return rel

    def write(self, path: str | Path, text: str) -> str:
        """Set the file's text (creating it); returns its key."""
        rel = self.workspace.relative(self.workspace.resolve_for_write(path))
        with self._lock:
            state = self._touch(rel)
            state.edits = edit_spans(state.edits, state.after or "", text)
            state.after = text
        return rel

    def delete(self, path: str | Path) -> str:
        """Delete the file (raises ``FileNotFoundError`` if it does not exist); returns its key."""
        rel = self.workspace.relative(self.workspace.resolve_for_write(path))
        with self._lock:
            state = self._touch(rel)
            if state.after is None:
                raise FileNotFoundError(f"{rel} does not exist")
            state.after = None
        return rel

    def touched(self) -> dict[str, str | None]:
        """Every touched path and its current text (None: deleted), changed or not."""
        with self._lock:
            return {rel: state.after for rel, state in self._states.items()}

    def changes(self) -> list[FileChange]:
        """Files whose content differs from their disk content when first touched, by path."""
        with self._lock:
            return [
                FileChange(rel, state.before, state.after, tuple(state.edits))
                for rel, state in sorted(self._states.items())
                if state.before != state.after
            ]

    def has_changes(self) -> bool:
        with self._lock:
            return any(state.before != state.after for state in self._states.values())

    def commit(self) -> list[str]:
        """Write every change to disk; returns the paths written or deleted.

        First checks that each file on disk still equals its ``before``; if any differs (the user
        changed it meanwhile), raises ``OverlayConflict`` naming them and writes nothing. After a
        successful commit the overlay is empty.
        """
        with self._lock:
            changes = self.changes()
            conflicts = []
            for change in changes:
                try:
                    current = self._disk(change.path, max_bytes=self.workspace.max_partial_bytes)
                except AgentlsError:
                    current = "\x00<unreadable>"  # became binary or too large: it changed
                if current != change.before:
                    conflicts.append(change.path)
            if conflicts:
                raise OverlayConflict(
                    "not written: changed on disk since the agent read them: " + ", ".join(conflicts)
                )
            # All or nothing: a failure undoes the files already written and raises WriteFailed.
            self.workspace.write_all([(change.path, change.before, change.after) for change in changes])
            written = [change.path for change in changes]
            self._states.clear()
        if written and self.on_commit is not None:
            self.on_commit(written)
        return written

    def discard(self) -> None:
        """Forget every change."""
        with self._lock:
            self._states.clear()
