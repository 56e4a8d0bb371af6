"""Per-key debouncing on the event loop: run a callback once a key has been quiet for a while.

Each ``schedule`` of a key cancels the key's pending call and starts the wait again, so a burst of
keystrokes in one document costs one call, ``delay`` seconds after the last of them. Keys are
independent (one document's typing does not put off another's). Used for the syntax diagnostics and
the context engine's re-tagging of edited buffers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Debouncer(Generic[K]):
    def __init__(self) -> None:
        self._pending: dict[K, asyncio.TimerHandle] = {}

    def schedule(self, key: K, delay: float, callback: Callable[[], object]) -> None:
        """Call ``callback`` after ``delay`` seconds unless ``key`` is scheduled again or cancelled first."""
        self.cancel(key)
        self._pending[key] = asyncio.get_running_loop().call_later(delay, self._fire, key, callback)

    def cancel(self, key: K) -> bool:
        """Drop ``key``'s pending call; whether there was one."""
        handle = self._pending.pop(key, None)
        if handle is None:
            return False
        handle.cancel()
        return True

    def cancel_all(self) -> list[K]:
        """Drop every pending call; the keys that had one (to do their work now, or not at all)."""
        pending, self._pending = self._pending, {}
        for handle in pending.values():
            handle.cancel()
        return list(pending)

    def _fire(self, key: K, callback: Callable[[], object]) -> None:
        self._pending.pop(key, None)  # first: the callback may schedule the key again
        callback()
