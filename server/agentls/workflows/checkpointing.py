"""Checkpoints around agent writes, for every front end: guard a write.

"Guard" means: take the checkpoint first; if that fails, the write does not happen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoint, Checkpoints
    from agentls.runtime import Runtime


def guard(checkpoints: Checkpoints | None, paths: Sequence[str], *, trigger: str, session_id: str | None = None,
          summary: str = "") -> Checkpoint | None:
    """Checkpoint ``paths`` before they are written; ``CheckpointError`` means: do not write."""
    if checkpoints is None or not paths:
        return None
    return checkpoints.checkpoint(list(paths), trigger=trigger, session_id=session_id, summary=summary[:200])


async def guard_write(runtime: Runtime, paths: Sequence[str], *, trigger: str, session_id: str | None = None,
                      summary: str = "") -> Checkpoint | None:
    """``guard`` with the runtime's checkpoint history (off the loop), when checkpoints are enabled."""
    if not runtime.settings.checkpoints.enabled or not paths:
        return None
    checkpoints = await runtime.checkpoints()
    return await asyncio.to_thread(guard, checkpoints, paths, trigger=trigger, session_id=session_id,
                                   summary=summary)
