"""Stop when the editor's process ends (``initialize``'s ``processId``), even if our stdin stays open: an
editor that crashed can leave the pipe held by another process, and a server nobody talks to must not
keep running sessions.

On Linux a pidfd becomes readable when the process exits: no polling. Elsewhere (or where pidfds are
not allowed) the process is checked every two seconds. A pid that does not exist at ``initialize`` is
most likely from another pid namespace (an editor outside the container): it is not watched.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

POLL_S = 2.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def watch(pid: int, gone: Callable[[], Coroutine[Any, Any, None]],
          spawn: Callable[[Coroutine[Any, Any, None]], None]) -> bool:
    """Run ``gone()`` once ``pid`` has exited; False when it is not watched (see the module docstring)."""
    if pid <= 0 or pid == os.getpid() or not alive(pid):
        log.info("not watching the editor's process %s (not visible from here)", pid)
        return False
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        spawn(_poll(pid, gone))
        return True

    def exited() -> None:
        loop.remove_reader(fd)
        os.close(fd)
        spawn(gone())

    loop.add_reader(fd, exited)
    return True


async def _poll(pid: int, gone: Callable[[], Coroutine[Any, Any, None]]) -> None:
    while alive(pid):  # noqa: ASYNC110 - no event exists for another process's end without a pidfd
        await asyncio.sleep(POLL_S)
    await gone()
