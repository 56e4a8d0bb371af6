"""Checkpoints around agent writes, for both front ends: open the workspace's history, guard a write.

"Guard" means: take the checkpoint first; if that fails, the write does not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentls.config import CheckpointSettings

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoint, Checkpoints
    from agentls.store.db import Store


def open_checkpoints(root: Path, settings: CheckpointSettings, store: Store | None) -> Checkpoints:
    from agentls.checkpoints import Checkpoints  # GitPython: imported on first use only
    from agentls.paths import data_dir

    return Checkpoints(root, data_dir=data_dir(), store=store, max_file_bytes=settings.max_file_bytes,
                       retention=settings.retention)


def guard(checkpoints: Checkpoints | None, paths: Sequence[str], *, trigger: str, session_id: str | None = None,
          summary: str = "") -> Checkpoint | None:
    """Checkpoint ``paths`` before they are written; ``CheckpointError`` means: do not write."""
    if checkpoints is None or not paths:
        return None
    return checkpoints.checkpoint(list(paths), trigger=trigger, session_id=session_id, summary=summary[:200])
