"""Checkpoints around agent writes, for every front end: guard a write, and restore an open buffer.

"Guard" means: take the checkpoint first; if that fails, the write does not happen. A front end that owns
open buffers passes their text (``buffers``): the checkpoint holds what the user sees, unsaved typing
included, not the disk. An accept also passes the text right after it (``applied``), so that restoring the
checkpoint later can undo exactly the accepted changes (``restored_text``) and keep what the user typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentls.edits.hunks import Hunk, apply_hunks, diff_hunks
from agentls.edits.rebase import rebase

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoint, Checkpoints
    from agentls.checkpoints.model import BufferRestore
    from agentls.runtime import Runtime


def guard(checkpoints: Checkpoints | None, paths: Sequence[str], *, trigger: str, session_id: str | None = None,
          summary: str = "", buffers: Mapping[str, str] | None = None,
          applied: Mapping[str, str] | None = None) -> Checkpoint | None:
    """Checkpoint ``paths`` before they are written; ``CheckpointError`` means: do not write."""
    if checkpoints is None or not paths:
        return None
    return checkpoints.checkpoint(list(paths), trigger=trigger, session_id=session_id, summary=summary[:200],
                                  buffers=dict(buffers or {}), applied=dict(applied or {}))


async def guard_write(runtime: Runtime, paths: Sequence[str], *, trigger: str, session_id: str | None = None,
                      summary: str = "", buffers: Mapping[str, str] | None = None,
                      applied: Mapping[str, str] | None = None) -> Checkpoint | None:
    """``guard`` with the runtime's checkpoint history (off the loop), when checkpoints are enabled."""
    if not runtime.settings.checkpoints.enabled or not paths:
        return None
    checkpoints = await runtime.checkpoints()
    return await asyncio.to_thread(guard, checkpoints, paths, trigger=trigger, session_id=session_id,
                                   summary=summary, buffers=buffers, applied=applied)


def accept_texts(path: str, text: str | None, hunks: Sequence[Hunk]) -> tuple[dict[str, str], dict[str, str]]:
    """(buffers, applied) for the checkpoint of an accept of ``hunks`` (offsets in ``text``) to ``path``."""
    if text is None:
        return {}, {}
    try:
        return {path: text}, {path: apply_hunks(text, hunks)}
    except ValueError:  # hunks not anchored on this text: the buffer alone still beats the disk
        return {path: text}, {}


@dataclass(frozen=True)
class RestoredText:
    #: The buffer's new text; None: the file did not exist at the checkpoint and nothing else is left.
    text: str | None
    #: Changes that could not be undone because the user edited over them (left as they are).
    conflicts: int = 0


def restored_text(current: str, restore: BufferRestore) -> RestoredText:
    """The open buffer ``current`` brought back to the checkpoint: each accept since undone (newest first)
    as a 3-way merge onto what the buffer has now, then what else changed between the checkpoint and the
    first accept; what the user typed stays. Without accepts: the checkpoint's text."""
    if not restore.steps:
        return RestoredText(restore.target)
    text, conflicts = current, 0
    for before, after in reversed(restore.steps):
        text, missed = _undo(text, after, before or "")
        conflicts += missed
    text, missed = _undo(text, restore.steps[0][0] or "", restore.target or "")
    conflicts += missed
    if restore.target is None and not text.strip():
        return RestoredText(None, conflicts)
    return RestoredText(text, conflicts)


def _undo(current: str, base: str, wanted: str) -> tuple[str, int]:
    """``current`` with the change ``base`` -> ``wanted`` carried onto it; (text, hunks that conflict)."""
    hunks = diff_hunks(base, wanted)
    if not hunks:
        return current, 0
    carried = rebase(base, current, hunks)
    return apply_hunks(current, carried.applied), len(carried.conflicts)
