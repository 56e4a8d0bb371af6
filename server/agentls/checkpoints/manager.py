"""``Checkpoints``: take, list, compare and restore checkpoints of one workspace.

A checkpoint of known paths (``checkpoint(paths, ...)``, before an edit or an accept) reads only
those files and carries the rest from the latest whole-tree scan; a whole-tree one
(``checkpoint(None, ...)``, after a command) scans. The first checkpoints of a session, taken
before a scan has finished, are *pending* until the next scan completes them: see ``capture.py``.
A file changed by someone other than the agent before a pending checkpoint's completing scan
counts as already there: a workflow that runs a command early in a session should
``wait_baseline()`` before it, so that no pending checkpoint absorbs its output.

This class is the public face: it opens the shadow repository, takes the locks a call needs and
turns failures into ``CheckpointError``, and leaves the work to ``capture.py`` (taking checkpoints),
``history.py`` (reading them, the store, retention), ``restore.py``, ``background.py`` (scans and gc
off the caller's thread) and ``paths.py``, over the shadow repository of ``shadow.py``.

Thread-safe, and serialised across processes by the shadow repository's locks. Calls are
synchronous and meant to run off the event loop (``asyncio.to_thread``). Failures raise
``CheckpointError`` with a one-line message; a caller that guards a write with a checkpoint must
not write when it fails.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import errno
import importlib
import logging
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import cast

import agentls.checkpoints.buffers as bufs
import agentls.checkpoints.paths as wspaths
from agentls.checkpoints.background import Background
from agentls.checkpoints.capture import Capture
from agentls.checkpoints.gitcmd import LITERAL
from agentls.checkpoints.history import History
from agentls.checkpoints.locks import LockBusy
from agentls.checkpoints.model import TRIGGERS, BufferRestore, Checkpoint, RestorePlan, RestoreResult, Trigger
from agentls.checkpoints.restore import Restorer
from agentls.checkpoints.shadow import PENDING_REFS, ShadowRepo
from agentls.errors import CheckpointError
from agentls.store.db import Store

log = logging.getLogger(__name__)

_DATA_DIR_HINTS = {
    errno.EACCES: "; the agentls data directory is not writable",
    errno.EPERM: "; the agentls data directory is not writable",
    errno.EROFS: "; the agentls data directory is on a read-only file system",
    errno.ENOSPC: "; the disk holding the agentls data directory is full",
    errno.EDQUOT: "; the disk quota for the agentls data directory is exhausted",
}


class Checkpoints:
    """Checkpoints of the workspace ``root`` in a shadow repository under ``data_dir``."""

    def __init__(self, root: Path, *, data_dir: Path, store: Store | None = None, max_file_bytes: int = 5_000_000,
                 retention: int = 200, deny: Sequence[str] = ()) -> None:
        real = Path(os.path.realpath(root))
        if not real.is_dir():
            raise CheckpointError(f"workspace {root} is not a directory")
        self.root = real
        self.store = store
        self.max_file_bytes = max_file_bytes
        self.retention = max(1, retention)
        from agentls.config import PROTECTED

        self.repo = ShadowRepo(real, Path(data_dir), (*PROTECTED, *deny))
        self._open_lock = threading.Lock()
        self._opened = False
        self._background = Background(self.repo, self._scan_in_background)
        self._history = History(self.repo, store, self.retention, request_gc=self._background.request_gc)
        self._capture = Capture(self.repo, self._history, max_file_bytes)
        self._restorer = Restorer(self.repo, self._history, self._capture, max_file_bytes)
        with contextlib.suppress(ImportError):
            importlib.import_module("git.db")  # GitPython: loaded now, not during the first checkpoint

    @property
    def last_scan_seconds(self) -> float | None:
        """Seconds the last background scan took (for tools and benchmarks)."""
        return self._background.last_scan_seconds

    @property
    def last_scan_error(self) -> str | None:
        """The last background scan's error, None when it succeeded."""
        return self._background.last_scan_error

    # -- public API ---------------------------------------------------------------------------

    def checkpoint(self, paths: Sequence[str] | None, *, trigger: str, session_id: str | None = None,
                   step: int | None = None, summary: str = "", buffers: Mapping[str, str] | None = None,
                   applied: Mapping[str, str] | None = None) -> Checkpoint:
        """Take a checkpoint. ``paths``: the workspace-relative files about to be written (fast, no
        scan); None: scan the whole tree. ``buffers``: the text of files open in an editor, taken instead
        of the disk; ``applied``: their text right after the accept this guards (see ``buffers.py``).
        Raises ``CheckpointError`` when it cannot be taken."""
        if trigger not in TRIGGERS:
            raise CheckpointError(f"unknown checkpoint trigger {trigger!r} (one of {', '.join(TRIGGERS)})")
        kind = cast(Trigger, trigger)
        summary = " ".join(summary.split())[:200]
        with self._errors("take a checkpoint"):
            self._open()
            if paths is None:
                with self.repo.scan_lock.hold():
                    result, _ = self._capture.scan_and_complete()
                    with self.repo.commit_lock.hold():
                        meta = self._capture.of_scan(result, kind, session_id, step, summary, texts=buffers)
            else:
                meta = self._capture.of_paths(paths, kind, session_id, step, summary, buffers, applied)
                self._background.request_scan()
        return meta.checkpoint()

    def start_baseline(self) -> None:
        """Scan the whole tree in a background thread (later checkpoints carry its files). Calling it
        again while one is waiting or running does nothing; once done, a new call rescans (cheap:
        unchanged files are not read again)."""
        self._background.start_baseline()

    def wait_baseline(self, timeout: float | None = None) -> bool:
        """Wait for the background baseline; True when it has completed (False: timeout or failure)."""
        return self._background.wait_baseline(timeout)

    def list(self, limit: int = 50) -> builtins.list[Checkpoint]:
        """The workspace's checkpoints, newest first."""
        with self._errors("list checkpoints"):
            if not self.repo.exists():
                return []
            self._open()
            return self._history.newest(limit)

    def diff(self, checkpoint_id: str, against: str | None = None, paths: Sequence[str] | None = None,
             buffers: Mapping[str, str] | None = None) -> str:
        """A unified diff from the checkpoint to ``against`` (another checkpoint) or to the files now (an
        open file as its editor ``buffers`` have it)."""
        with self._errors("diff the checkpoint"):
            self._open()
            old_id = self._history.resolve(checkpoint_id)
            new_id = self._history.resolve(against) if against is not None else None
            prefixes = wspaths.prefixes(self.root, paths)
            with self.repo.scan_lock.hold():
                pending = set(self.repo.ids(PENDING_REFS))
                now: bytes | None = None
                if new_id is None or old_id in pending or new_id in pending:
                    now = self._capture.scan_and_complete()[0].tree
                with self.repo.commit_lock.hold():
                    old = self._history.read(old_id)[1]
                    new = self._history.read(new_id)[1] if new_id is not None else now
                    if new_id is None and now is not None and buffers:
                        new = bufs.overlay(self.repo, now, bufs.normalise(self.root, buffers), self.max_file_bytes)[0]
            assert new is not None
            args = ["diff-tree", "-r", "-p", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames",
                    old.hex(), new.hex()]
            if prefixes:
                args += ["--", *prefixes]
            return self.repo.git.run(*args, env=LITERAL).decode("utf-8", "replace")

    def plan_restore(self, checkpoint_id: str, paths: Sequence[str] | None = None, *,
                     buffers: Collection[str] = ()) -> RestorePlan:
        """What ``restore`` would change, with the checkpoint's bytes; the workspace is not touched. For each
        path of ``buffers`` (files open in an editor, under ``paths``), how to restore the buffer."""
        with self._errors("plan the restore"):
            self._open()
            cid = self._history.resolve(checkpoint_id)
            prefixes = wspaths.prefixes(self.root, paths)
            plan = self._restorer.plan(cid, prefixes)
            opened = [rel for rel in bufs.normalise(self.root, dict.fromkeys(buffers, ""))
                      if prefixes is None or any(rel == p or rel.startswith(p + "/") for p in prefixes)]
            return dataclasses.replace(plan, buffers=[self._buffer_restore(cid, rel) for rel in opened])

    def _buffer_restore(self, cid: str, rel: str) -> BufferRestore:
        tree = self._history.reliable_tree(cid, rel)
        if tree is None:  # a pending checkpoint that did not read it: complete it first
            with self.repo.scan_lock.hold():
                self._capture.scan_and_complete()
            tree = self._history.read(cid)[1]
        with self.repo.commit_lock.hold():
            return bufs.restore_of(self.repo, self._history, cid, rel, tree)

    def restore(self, checkpoint_id: str, paths: Sequence[str] | None = None, *,
                skip: Collection[str] = (), buffers: Mapping[str, str] | None = None) -> RestoreResult:
        """Bring back the checkpoint's files (all, or those under ``paths``): modified files get their
        content and mode back, files created since are deleted, deleted ones re-created. A safety
        checkpoint of the current state is taken first (the result names it: restoring it undoes
        this; it holds ``buffers``, the editor's text of open files). Paths in ``skip`` are left to the
        caller (open editor buffers)."""
        with self._errors("restore the checkpoint"):
            self._open()
            cid = self._history.resolve(checkpoint_id)
            prefixes = wspaths.prefixes(self.root, paths)
            skip_set = {wspaths.relative(self.root, path) or path for path in skip}
            result = self._restorer.restore(cid, prefixes, skip_set, bufs.normalise(self.root, buffers))
            self._background.request_scan()
            return result

    def close(self) -> None:
        """Stop the background work (a running scan stops at its next step) and wait for it briefly."""
        self._background.close()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except CheckpointError:
            raise
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            hint = ""
            if exc.filename and os.fspath(exc.filename).startswith(str(self.repo.dir)):
                hint = _DATA_DIR_HINTS.get(exc.errno or 0, "")
            raise CheckpointError(f"cannot {what}: {exc.strerror or exc}{where}{hint}") from exc
        except sqlite3.Error as exc:
            raise CheckpointError(f"cannot {what}: the store failed ({exc})") from exc

    def _open(self) -> None:
        if self._opened:
            return
        with self._open_lock:
            if self._opened:
                return
            self.repo.prepare_dir()
            with self.repo.commit_lock.hold():
                try:
                    with self.repo.scan_lock.hold(timeout=0):
                        repairs = self.repo.open(scan_locked=True)
                except LockBusy:  # another process is scanning: its files are not stale
                    repairs = self.repo.open(scan_locked=False)
                for repair in repairs:
                    log.warning("checkpoints of %s: %s", self.root, repair)
                self._history.reconcile_store()
            self._opened = True

    def _scan_in_background(self, stop: threading.Event) -> tuple[float, bool]:
        """The background worker's scan: its duration, and whether checkpoints are still pending."""
        self._open()
        with self.repo.scan_lock.hold():
            _, seconds = self._capture.scan_and_complete(stop)
            with self.repo.commit_lock.hold():
                return seconds, bool(self.repo.ids(PENDING_REFS))
