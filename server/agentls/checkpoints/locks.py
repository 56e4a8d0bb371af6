"""The shadow repository's locks: a thread lock plus an ``fcntl.flock`` on a file.

Kept apart from ``shadow.py`` because it knows nothing of git, only of lock files and timeouts.
A shadow repository has two (``ShadowRepo.commit_lock`` and ``ShadowRepo.scan_lock``), held in that
order (scan, then commit) by one thread at a time and by one process at a time, so two editors on
one workspace serialise their checkpoints.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from agentls.errors import CheckpointError


class LockBusy(CheckpointError):
    """A lock was not free within its timeout."""


class FileLock:
    """A thread lock plus an ``fcntl.flock`` on ``path``; re-entrant within a thread."""

    def __init__(self, path: Path, timeout: float, what: str) -> None:
        self.path = path
        self.timeout = timeout
        self.what = what
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextlib.contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock; ``LockBusy`` after ``timeout`` seconds (default: the lock's own timeout)."""
        wait = self.timeout if timeout is None else timeout
        if not self._lock.acquire(timeout=wait):
            raise LockBusy(f"timed out after {wait:.0f} s waiting for the {self.what} lock")
        try:
            if self._depth == 0:
                self._fd = self._flock(wait)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    os.close(self._fd)  # releases the flock
                    self._fd = None
        finally:
            self._lock.release()

    def _flock(self, wait: float) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)  # OSError: the caller reports it
        deadline = time.monotonic() + wait
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if time.monotonic() >= deadline:
                os.close(fd)
                raise LockBusy(
                    f"another agentls process has held the {self.what} lock for over {wait:.0f} s ({self.path})")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
