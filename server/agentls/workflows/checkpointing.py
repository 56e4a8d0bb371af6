"""Checkpoints around agent writes, for every front end: guard a write.

"Guard" means: take the checkpoint first; if that fails, the write does not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoint, Checkpoints


def guard(checkpoints: Checkpoints | None, paths: Sequence[str], *, trigger: str, session_id: str | None = None,
          summary: str = "") -> Checkpoint | None:
    """Checkpoint ``paths`` before they are written; ``CheckpointError`` means: do not write."""
    if checkpoints is None or not paths:
        return None
    return checkpoints.checkpoint(list(paths), trigger=trigger, session_id=session_id, summary=summary[:200])
