"""Finding what blocks an event loop: a watchdog thread that logs every stall over a threshold with the
stack the loop's thread was in (``debug.loop_stall_ms``).

The loop marks a heartbeat every few milliseconds; the watchdog, in its own thread, looks at it a few
times per threshold. When the heartbeat is older than the threshold, it takes every thread's current
frame (``sys._current_frames``) once per stall: the loop's own, and the others', since a loop that
waits for the GIL is stalled by whichever thread holds it. It logs them with the stall's length when
the loop runs again. Cheap enough to leave on while measuring: one timer callback per tick on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)


class StallWatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, threshold_ms: float) -> None:
        self.loop = loop
        self.threshold = threshold_ms / 1000
        self.tick = min(0.005, self.threshold / 4)
        self._beat = time.monotonic()
        self._loop_thread: int | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="agentls-stall-watch", daemon=True)
        #: Stalls seen: (seconds, the loop thread's stack when the stall was caught).
        self.stalls: list[tuple[float, str]] = []

    def start(self) -> StallWatch:
        self.loop.call_soon_threadsafe(self._heartbeat)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _heartbeat(self) -> None:
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        if not self._stopped.is_set():
            self.loop.call_later(self.tick, self._heartbeat)

    def _stacks(self) -> str:
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        parts = []
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            role = "the event loop" if ident == self._loop_thread else f"thread {names.get(ident, ident)}"
            parts.append(f"--- {role}:\n" + "".join(traceback.format_stack(frame)[-12:]))
        return "\n".join(parts)

    def _watch(self) -> None:
        caught: str | None = None
        started = 0.0
        while not self._stopped.wait(self.threshold / 4):
            beat = self._beat
            if caught is None and time.monotonic() - beat - self.tick > self.threshold and self._loop_thread:
                caught, started = self._stacks(), beat
            elif caught is not None and beat > started:
                length = beat - started - self.tick
                self.stalls.append((length, caught))
                log.warning("the event loop stalled for %.0f ms; the threads were in:\n%s", length * 1000, caught)
                caught = None
