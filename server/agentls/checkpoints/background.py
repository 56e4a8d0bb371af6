"""Background work of one workspace's checkpoints: debounced scans, the baseline scan, ``git gc``.

One daemon thread, started on demand, runs the jobs one at a time: a whole-tree scan about a second
after each burst of checkpoints of known paths (so the next ones carry fresh files and the pending
ones are completed), the baseline scan a session starts with, and a ``git gc`` once enough
checkpoints have been pruned. The scan itself is a callable from the owner (it opens the shadow
repository and takes the locks); this module only decides when it runs and records how it went.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from agentls.checkpoints.shadow import ShadowRepo
from agentls.errors import CheckpointError

log = logging.getLogger(__name__)

#: After a checkpoint of known paths, the next background scan waits this long for more checkpoints...
SCAN_DEBOUNCE_S = 1.0
#: ...but no longer than this after the first one.
SCAN_MAX_DELAY_S = 10.0

#: A whole-tree scan that stops when the event is set; returns its duration in seconds and whether
#: checkpoints are still pending (taken while it ran: the next scan completes them).
ScanJob = Callable[[threading.Event], tuple[float, bool]]


class Background:
    """The worker thread of the workspace of ``repo``; ``scan`` runs a whole-tree scan."""

    def __init__(self, repo: ShadowRepo, scan: ScanJob) -> None:
        self.repo = repo
        self._scan = scan
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._scan_due: float | None = None
        self._scan_first: float | None = None
        self._gc_due = False
        self._baseline_wanted = False
        self._baseline_done = threading.Event()
        #: Seconds the last background scan took, and its error if it failed (for tools and benchmarks).
        self.last_scan_seconds: float | None = None
        self.last_scan_error: str | None = None

    def start_baseline(self) -> None:
        """Scan the whole tree soon (see ``Checkpoints.start_baseline``)."""
        with self._cond:
            if self._baseline_wanted:
                return
            self._baseline_wanted = True
            self._baseline_done.clear()
            self._scan_due = time.monotonic()
            self._ensure_worker()
            self._cond.notify_all()

    def wait_baseline(self, timeout: float | None = None) -> bool:
        """Wait for the baseline scan; True when it has completed (False: timeout or failure)."""
        return self._baseline_done.wait(timeout)

    def request_scan(self, delay: float = SCAN_DEBOUNCE_S) -> None:
        """Scan the whole tree after ``delay`` seconds without a new request (at most ``SCAN_MAX_DELAY_S``
        after the first one)."""
        with self._cond:
            now = time.monotonic()
            if self._scan_first is None:
                self._scan_first = now
            due = min(now + delay, self._scan_first + SCAN_MAX_DELAY_S)
            if self._scan_due is not None and self._baseline_wanted:
                due = min(due, self._scan_due)  # a requested baseline is not put off
            self._scan_due = due
            self._ensure_worker()
            self._cond.notify_all()

    def request_gc(self) -> None:
        """Run ``git gc`` next (pruned checkpoints left unreachable objects)."""
        with self._cond:
            self._gc_due = True
            self._ensure_worker()
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the worker (a running scan stops at its next step) and wait for it briefly."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=30)

    def _ensure_worker(self) -> None:
        if self._stop.is_set():
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name=f"agentls-checkpoints:{self.repo.root.name}",
                                            daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                job: Callable[[], None] | None = None
                while job is None and not self._stop.is_set():
                    now = time.monotonic()
                    if self._gc_due:
                        self._gc_due = False
                        job = self._gc
                    elif self._scan_due is not None and self._scan_due <= now:
                        self._scan_due = self._scan_first = None
                        job = self._background_scan
                    else:
                        self._cond.wait(None if self._scan_due is None else self._scan_due - now)
            if job is not None and not self._stop.is_set():
                job()

    def _background_scan(self) -> None:
        with self._cond:
            baseline = self._baseline_wanted
        try:
            seconds, more = self._scan(self._stop)
        except CheckpointError as exc:
            self.last_scan_error = str(exc)
            if not self._stop.is_set():
                log.warning("checkpoints of %s: background scan failed: %s", self.repo.root, exc)
            return
        except OSError as exc:
            self.last_scan_error = f"{exc.strerror or exc}"
            log.warning("checkpoints of %s: background scan failed: %s", self.repo.root, exc)
            return
        self.last_scan_seconds = seconds
        self.last_scan_error = None
        log.debug("checkpoints of %s: scan took %.2f s", self.repo.root, seconds)
        if baseline:
            with self._cond:
                self._baseline_wanted = False
            self._baseline_done.set()
        if more:
            self.request_scan()  # checkpoints taken while it ran: the next scan completes them

    def _gc(self) -> None:
        try:
            with self.repo.scan_lock.hold():
                started = time.perf_counter()
                self.repo.git.run("gc", "--quiet", "--prune=10.minutes.ago")
                self.repo.odb.refresh()
            log.debug("checkpoints of %s: gc took %.2f s", self.repo.root, time.perf_counter() - started)
        except CheckpointError as exc:
            log.warning("checkpoints of %s: gc failed: %s", self.repo.root, exc)
