"""``Checkpoints``: take, list, compare and restore checkpoints of one workspace.

Two ways to take a checkpoint:

* **Known paths** (``checkpoint(paths, ...)``, before an edit or an accept): the files about to be
  written are read and hashed, and so are the files the agent was about to write since the latest
  whole-tree scan began (the scan may have read them before that write); every other file is
  carried from that scan, and only the trees on the way to the files read are rewritten. No scan,
  no index: a handful of objects and a few milliseconds, whatever the size of the workspace.
* **Whole tree** (``checkpoint(None, ...)``: after a command, a restore's safety checkpoint): a
  scan (``scan.py``), stat-cached by the shadow index, so only changed files are read.

Until a scan has finished since this ``Checkpoints`` was created (the first checkpoints of a
session, while ``start_baseline`` still runs), what the latest scan says about the other files is
not trusted: the checkpoint is *pending*, and the next scan *completes* it. A path is then taken
from the earliest checkpoint at or after it that read the path (by contract, the agent checkpoints
a file before writing it, so that checkpoint has the content as of the pending one); every other
path is as the scan found it. Restoring or comparing a pending checkpoint runs that scan first.

What this cannot know: a file changed by someone other than the agent (the user, a command) after
the latest scan and before a known-paths checkpoint is carried in the scan's version (scans run in
the background about a second after each burst of checkpoints, so the window is small, and a
restore's safety checkpoint keeps whatever was on disk). For a pending checkpoint such a change
made before the completing scan counts as already there: a workflow that runs a command early in a
session should ``wait_baseline()`` before it, so that no pending checkpoint absorbs its output.

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
import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import agentls.checkpoints.files as fileops
from agentls.checkpoints.gitcmd import LITERAL
from agentls.checkpoints.model import (
    MAX_LISTED_FILES,
    TRIGGERS,
    Checkpoint,
    FileRestore,
    Meta,
    RestorePlan,
    RestoreResult,
    Trigger,
    summarize,
    with_skipped,
)
from agentls.checkpoints.objects import EMPTY_TREE, MODE_TREE, Entry
from agentls.checkpoints.scan import ScanResult, blob_entry, is_nested_repo, scan
from agentls.checkpoints.shadow import CP_REFS, PENDING_REFS, SCAN_REF, LockBusy, ShadowRepo, public_id
from agentls.errors import CheckpointError
from agentls.store.db import CheckpointRecord, Store

log = logging.getLogger(__name__)

#: After a checkpoint of known paths, the next background scan waits this long for more checkpoints...
SCAN_DEBOUNCE_S = 1.0
#: ...but no longer than this after the first one.
SCAN_MAX_DELAY_S = 10.0
#: At most this many paths written since the last scan are read again by a checkpoint.
MAX_REREAD = 5000
_SCAN_PREFIX = "agentls-scan: "
_DATA_DIR_HINTS = {
    errno.EACCES: "; the agentls data directory is not writable",
    errno.EPERM: "; the agentls data directory is not writable",
    errno.EROFS: "; the agentls data directory is on a read-only file system",
    errno.ENOSPC: "; the disk holding the agentls data directory is full",
    errno.EDQUOT: "; the disk quota for the agentls data directory is exhausted",
}


@dataclass(frozen=True)
class _ScanInfo:
    tree: bytes
    time: float
    last_id: str


@dataclass
class _Item:
    path: str
    current: Entry | None
    target: Entry | None


class Checkpoints:
    """Checkpoints of the workspace ``root`` in a shadow repository under ``data_dir``."""

    def __init__(self, root: Path, *, data_dir: Path, store: Store | None = None, max_file_bytes: int = 5_000_000,
                 retention: int = 200) -> None:
        real = Path(os.path.realpath(root))
        if not real.is_dir():
            raise CheckpointError(f"workspace {root} is not a directory")
        self.root = real
        self.store = store
        self.max_file_bytes = max_file_bytes
        self.retention = max(1, retention)
        self.repo = ShadowRepo(real, Path(data_dir))
        self._workspace_key = str(real)
        self._open_lock = threading.Lock()
        self._opened = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._scan_due: float | None = None
        self._scan_first: float | None = None
        self._gc_due = False
        self._baseline_wanted = False
        self._baseline_done = threading.Event()
        self._pruned_since_gc = 0
        self._started = time.time()
        self._cache_lock = threading.Lock()
        self._commits: dict[bytes, tuple[Meta, bytes]] = {}
        #: Seconds the last background scan took, and its error if it failed (for tools and benchmarks).
        self.last_scan_seconds: float | None = None
        self.last_scan_error: str | None = None
        with contextlib.suppress(ImportError):
            importlib.import_module("git.db")  # GitPython: loaded now, not during the first checkpoint

    # -- public API ---------------------------------------------------------------------------

    def checkpoint(self, paths: Sequence[str] | None, *, trigger: str, session_id: str | None = None,
                   step: int | None = None, summary: str = "") -> Checkpoint:
        """Take a checkpoint. ``paths``: the workspace-relative files about to be written (fast, no
        scan); None: scan the whole tree. Raises ``CheckpointError`` when it cannot be taken."""
        if trigger not in TRIGGERS:
            raise CheckpointError(f"unknown checkpoint trigger {trigger!r} (one of {', '.join(TRIGGERS)})")
        kind = cast(Trigger, trigger)
        summary = " ".join(summary.split())[:200]
        with self._errors("take a checkpoint"):
            self._open()
            if paths is None:
                with self.repo.scan_lock.hold():
                    result, _ = self._scan_and_complete()
                    with self.repo.commit_lock.hold():
                        meta = self._whole_checkpoint(result, kind, session_id, step, summary)
            else:
                meta = self._paths_checkpoint(paths, kind, session_id, step, summary)
                self._request_scan()
        return meta.checkpoint()

    def start_baseline(self) -> None:
        """Scan the whole tree in a background thread (later checkpoints carry its files). Calling it
        again while one is waiting or running does nothing; once done, a new call rescans (cheap:
        unchanged files are not read again)."""
        with self._cond:
            if self._baseline_wanted:
                return
            self._baseline_wanted = True
            self._baseline_done.clear()
            self._scan_due = time.monotonic()
            self._ensure_worker()
            self._cond.notify_all()

    def wait_baseline(self, timeout: float | None = None) -> bool:
        """Wait for the background baseline; True when it has completed (False: timeout or failure)."""
        return self._baseline_done.wait(timeout)

    def list(self, limit: int = 50) -> builtins.list[Checkpoint]:
        """The workspace's checkpoints, newest first."""
        with self._errors("list checkpoints"):
            if not self.repo.exists():
                return []
            self._open()
            if self.store is not None:
                return [Checkpoint(r.id, r.time, cast(Trigger, r.trigger), r.session_id, r.step, r.summary,
                                   r.files) for r in self.store.checkpoints(self._workspace_key, limit)]
            result = []
            for key in reversed(self.repo.ids()[-limit:] if limit > 0 else []):
                with contextlib.suppress(CheckpointError):
                    result.append(self._read(key)[0].checkpoint())
            return result

    def diff(self, checkpoint_id: str, against: str | None = None, paths: Sequence[str] | None = None) -> str:
        """A unified diff from the checkpoint to ``against`` (another checkpoint) or to the files now."""
        with self._errors("diff the checkpoint"):
            self._open()
            old_id = self._resolve(checkpoint_id)
            new_id = self._resolve(against) if against is not None else None
            prefixes = self._prefixes(paths)
            with self.repo.scan_lock.hold():
                pending = set(self.repo.ids(PENDING_REFS))
                now: bytes | None = None
                if new_id is None or old_id in pending or new_id in pending:
                    now = self._scan_and_complete()[0].tree
                with self.repo.commit_lock.hold():
                    old = self._read(old_id)[1]
                    new = self._read(new_id)[1] if new_id is not None else now
            assert new is not None
            args = ["diff-tree", "-r", "-p", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames",
                    old.hex(), new.hex()]
            if prefixes:
                args += ["--", *prefixes]
            return self.repo.git.run(*args, env=LITERAL).decode("utf-8", "replace")

    def plan_restore(self, checkpoint_id: str, paths: Sequence[str] | None = None) -> RestorePlan:
        """What ``restore`` would change, with the checkpoint's bytes; the workspace is not touched."""
        with self._errors("plan the restore"):
            self._open()
            cid = self._resolve(checkpoint_id)
            prefixes = self._prefixes(paths)
            with self._restore_locks(cid, prefixes) as scanned:
                meta, items, skipped = self._plan(cid, prefixes, scanned)
                return RestorePlan(meta.checkpoint(), [self._file_restore(item) for item in items], skipped)

    def restore(self, checkpoint_id: str, paths: Sequence[str] | None = None, *,
                skip: Collection[str] = ()) -> RestoreResult:
        """Bring back the checkpoint's files (all, or those under ``paths``): modified files get their
        content and mode back, files created since are deleted, deleted ones re-created. A safety
        checkpoint of the current state is taken first (the result names it: restoring it undoes
        this). Paths in ``skip`` are left to the caller (open editor buffers)."""
        with self._errors("restore the checkpoint"):
            self._open()
            cid = self._resolve(checkpoint_id)
            prefixes = self._prefixes(paths)
            skip_set = {self._relative(path) or path for path in skip}
            with self._restore_locks(cid, prefixes) as scanned:
                meta, items, skipped = self._plan(cid, prefixes, scanned)
                # Read the checkpoint's bytes first: the safety checkpoint may prune it (retention).
                contents = {item.path: self.repo.odb.read(item.target.sha)[1] for item in items
                            if item.target is not None and item.path not in skip_set}
                summary = f"before restoring {meta.id}" + (f" ({', '.join(prefixes)})" if prefixes else "")
                changed = [item.path for item in items]
                if scanned is not None:
                    safety = self._whole_checkpoint(scanned, "restore", None, None, summary, files=changed)
                else:
                    safety = self._paths_checkpoint(changed, "restore", None, None, summary)
                result = self._apply(items, contents, skip_set, safety.id)
            self._request_scan()
            return RestoreResult(result[0], result[1], result[2], safety.id,
                                 sorted(set(skipped) | (skip_set & set(changed))))

    def close(self) -> None:
        """Stop the background work (a running scan stops at its next step) and wait for it briefly."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=30)

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
                self._reconcile_store()
            self._opened = True

    def _reconcile_store(self) -> None:
        """Make the store's rows match the refs: drop rows of vanished checkpoints, add missing ones."""
        if self.store is None:
            return
        keys = {public_id(key): key for key in self.repo.ids()}
        rows = self.store.checkpoint_ids(self._workspace_key)
        if rows - keys.keys():
            self.store.delete_checkpoints(self._workspace_key, rows - keys.keys())
        for checkpoint_id in sorted(keys.keys() - rows):
            with contextlib.suppress(CheckpointError):
                self._record(self._read(keys[checkpoint_id])[0])

    # -- taking checkpoints -------------------------------------------------------------------

    def _paths_checkpoint(self, paths: Sequence[str], trigger: Trigger, session_id: str | None, step: int | None,
                          summary: str) -> Meta:
        wanted: builtins.list[str] = []
        for path in paths:
            rel = self._relative(path)
            if rel is not None and rel not in wanted and not self._excluded(rel):
                wanted.append(rel)
        odb = self.repo.odb
        with self.repo.commit_lock.hold():
            scan_info = self._scan_info()
            base = scan_info.tree if scan_info else EMPTY_TREE
            pending = scan_info is None or scan_info.time < self._started
            # Files the agent was about to write since a scan began may have been written since, and
            # that scan may have read them before or after: read them again. Which scan: the one the
            # files outside `changes` come from (the latest), or for a pending checkpoint the one
            # running now (it may complete this checkpoint); a later scan needs nothing re-read.
            # (The last checkpoint before the scan began counts: its write may have come after.)
            since = self.repo.scan_running() if pending else scan_info.last_id if scan_info else None
            again: dict[str, None] = {}
            if since is not None:
                for cid in self.repo.ids():
                    if cid >= since:
                        again.update(dict.fromkeys(self._read(cid)[0].covered or []))
            candidates = wanted + [p for p in again if p not in wanted][:MAX_REREAD]
            ignored = self._ignored(candidates)
            changes: dict[str, Entry | None] = {}
            skipped: builtins.list[str] = []
            for rel in candidates:
                if rel in ignored:
                    continue
                full = self.root / rel
                try:
                    st = os.lstat(full)
                except (FileNotFoundError, NotADirectoryError):
                    changes[rel] = None  # about to be created: a restore deletes it
                    continue
                if stat.S_ISREG(st.st_mode) and st.st_size > self.max_file_bytes:
                    skipped.append(rel)
                    continue
                found = blob_entry(full, st)
                if found is None:
                    continue  # a directory or a special file: nothing git would store
                entry, data = found
                if odb.lookup(base, rel) != entry:
                    odb.write(b"blob", data)  # new content (the scan's blobs are there already)
                changes[rel] = entry
            tree = odb.apply(base, changes)
            files = [rel for rel in wanted if rel in changes]
            now = time.time()
            key = self.repo.new_key()
            meta = Meta(public_id(key), now, trigger, session_id, step,
                        with_skipped(summary or summarize(trigger, files), [p for p in skipped if p in wanted]),
                        files[:MAX_LISTED_FILES], list(changes), skipped)
            commit = odb.write_commit(tree, meta.message(), now)
            # Without a scan taken since this instance started, files outside `changes` are not known:
            # the checkpoint stays pending until a scan completes it (pending ref first: a crash
            # in between never leaves an incomplete checkpoint looking complete).
            if pending:
                self.repo.write_ref(f"{PENDING_REFS}/{key}", commit)
            self.repo.write_ref(f"{CP_REFS}/{key}", commit)
            self._record(meta)
            self._prune()
        return meta

    def _scan_info(self) -> _ScanInfo | None:
        """The latest scan: its tree, when it finished, the newest checkpoint id when it began."""
        head = self.repo.read_ref(SCAN_REF)
        if head is None:
            return None
        tree, message = self.repo.odb.commit(head)
        for line in message.splitlines():
            if line.startswith(_SCAN_PREFIX):
                try:
                    data = json.loads(line[len(_SCAN_PREFIX):])
                    return _ScanInfo(tree, float(data["time"]), str(data["last_id"]))
                except (ValueError, KeyError, TypeError):
                    break
        return _ScanInfo(tree, 0.0, "")

    def _whole_checkpoint(self, result: ScanResult, trigger: Trigger, session_id: str | None, step: int | None,
                          summary: str, files: builtins.list[str] | None = None) -> Meta:
        """A checkpoint of a scan's tree (hold the commit lock)."""
        if files is None:
            files = sorted(path for path, _, _ in self.repo.odb.diff(result.previous, result.tree))
        now = time.time()
        key = self.repo.new_key()
        meta = Meta(public_id(key), now, trigger, session_id, step,
                    with_skipped(summary or summarize(trigger, files[:3], len(files)), result.skipped),
                    files[:MAX_LISTED_FILES], None, result.skipped[:MAX_LISTED_FILES])
        commit = self.repo.odb.write_commit(result.tree, meta.message(), now)
        self.repo.write_ref(f"{CP_REFS}/{key}", commit)
        self._record(meta)
        self._prune()
        return meta

    def _scan_and_complete(self, stop: threading.Event | None = None) -> tuple[ScanResult, float]:
        """Scan the whole tree, move the scan ref, complete the pending checkpoints taken before the
        scan began. Hold the scan lock. Returns the scan and its duration."""
        started = time.perf_counter()
        with self.repo.commit_lock.hold():
            ids = self.repo.ids()
            last_id = ids[-1] if ids else ""
            previous_head = self.repo.read_ref(SCAN_REF)
            self.repo.mark_scan_running(last_id)
        try:
            result = scan(self.repo, self.max_file_bytes, stop)
        except BaseException:
            with self.repo.commit_lock.hold():
                self.repo.mark_scan_running(None)
            raise
        with self.repo.commit_lock.hold():
            self.repo.mark_scan_running(None)
            result.previous = self.repo.odb.commit(previous_head)[0] if previous_head else EMPTY_TREE
            now = time.time()
            info = {"time": now, "last_id": last_id, "skipped": result.skipped[:MAX_LISTED_FILES],
                    "nested": result.nested, "hashed": result.hashed}
            message = f"scan\n\n{_SCAN_PREFIX}{json.dumps(info, ensure_ascii=False)}\n"
            self.repo.write_ref(SCAN_REF, self.repo.odb.write_commit(result.tree, message, now))
            self._complete(result)
        return result, time.perf_counter() - started

    def _complete(self, result: ScanResult) -> None:
        """Complete every pending checkpoint with the scan just made: a path is taken from the
        earliest checkpoint at or after it that read the path, else from the scan (see the module
        docstring). A pending checkpoint re-read, when taken, every path the agent had been about to
        write since the last scan began, so the scan may have begun before or after it."""
        pending = self.repo.ids(PENDING_REFS)
        if not pending:
            return
        odb = self.repo.odb
        todo = set(pending)
        base = result.tree
        changes: dict[str, Entry | None] = {}
        for cid in reversed([cid for cid in self.repo.ids() if cid >= pending[0]]):
            try:
                meta, tree = self._read(cid)
            except CheckpointError as exc:
                log.warning("checkpoint %s unreadable, not completed: %s", cid, exc)
                continue
            if meta.covered is None:
                base, changes = tree, {}
            else:
                for path in meta.covered:
                    entry = odb.lookup(tree, path)
                    changes[path] = None if entry is None or entry.mode == MODE_TREE else entry
            if cid in todo:
                meta.skipped = sorted(set(meta.skipped) | set(result.skipped))[:MAX_LISTED_FILES]
                commit = odb.write_commit(odb.apply(base, changes), meta.message(), meta.time)
                self.repo.write_ref(f"{CP_REFS}/{cid}", commit)
                self.repo.delete_ref(f"{PENDING_REFS}/{cid}")

    def _record(self, meta: Meta) -> None:
        if self.store is None:
            return
        try:
            self.store.add_checkpoint(CheckpointRecord(meta.id, self._workspace_key, meta.session_id, meta.step,
                                                       meta.time, meta.trigger, meta.summary, meta.files))
        except Exception as exc:  # the commit is the data; the row is rebuilt when the store is next opened
            log.warning("checkpoint %s not recorded in the store: %s", meta.id, exc)

    def _prune(self) -> None:
        ids = self.repo.ids()
        excess = ids[: max(0, len(ids) - self.retention)]
        if not excess:
            return
        for cid in excess:
            self.repo.delete_ref(f"{PENDING_REFS}/{cid}")
            self.repo.delete_ref(f"{CP_REFS}/{cid}")
        if self.store is not None:
            try:
                self.store.delete_checkpoints(self._workspace_key, [public_id(key) for key in excess])
            except Exception as exc:
                log.warning("pruned checkpoints not removed from the store: %s", exc)
        self._pruned_since_gc += len(excess)
        if self._pruned_since_gc >= max(1, min(50, self.retention // 4)):
            self._pruned_since_gc = 0
            with self._cond:
                self._gc_due = True
                self._ensure_worker()
                self._cond.notify_all()

    # -- paths --------------------------------------------------------------------------------

    def _relative(self, path: str) -> str | None:
        """The workspace-relative posix path of ``path`` (symlinks followed), None outside the root."""
        raw = os.fspath(path)
        full = raw if os.path.isabs(raw) else os.path.join(self.root, raw)
        real = Path(os.path.realpath(full))
        if real == self.root or not real.is_relative_to(self.root):
            return None
        return real.relative_to(self.root).as_posix()

    def _excluded(self, rel: str, replaced: Collection[str] = ()) -> bool:
        """Inside a ``.git`` directory or a nested repository, or below a symlink (unless the symlink
        is in ``replaced``: a restore deletes it first): never captured, never restored."""
        parts = rel.split("/")
        if ".git" in parts:
            return True
        for depth in range(1, len(parts)):
            directory = self.root.joinpath(*parts[:depth])
            if directory.is_symlink():
                if "/".join(parts[:depth]) not in replaced:
                    return True
            elif is_nested_repo(directory):
                return True
        return False

    def _below_symlink(self, rel: str) -> bool:
        parts = rel.split("/")
        return any(self.root.joinpath(*parts[:depth]).is_symlink() for depth in range(1, len(parts)))

    def _ignored(self, rels: Sequence[str]) -> set[str]:
        if not rels:
            return set()
        out = self.repo.git.run("check-ignore", "-z", "--stdin", "--no-index", ok=(0, 1),
                                input=b"".join(os.fsencode(rel) + b"\x00" for rel in rels))
        return {os.fsdecode(raw) for raw in out.split(b"\x00") if raw}

    def _prefixes(self, paths: Sequence[str] | None) -> builtins.list[str] | None:
        if paths is None:
            return None
        prefixes = []
        for path in paths:
            raw = os.fspath(path)
            full = Path(os.path.normpath(raw if os.path.isabs(raw) else os.path.join(self.root, raw)))
            if not full.is_relative_to(self.root):  # an absolute path spelled through a symlink?
                full = Path(os.path.realpath(full.parent)) / full.name
            if full == self.root:
                return None
            if not full.is_relative_to(self.root):
                raise CheckpointError(f"{path} is outside the workspace {self.root}")
            prefixes.append(full.relative_to(self.root).as_posix())
        return sorted(set(prefixes)) or None

    # -- reading checkpoints ------------------------------------------------------------------

    def _resolve(self, checkpoint_id: str) -> str:
        """The key of the checkpoint ``checkpoint_id`` (its id, a unique prefix of at least 4 hex
        digits, or its key)."""
        wanted = checkpoint_id.strip().lower()
        keys = self.repo.ids()
        exact = [key for key in keys if wanted in (key, public_id(key))]
        if exact:
            return exact[0]
        matches = [key for key in keys if public_id(key).startswith(wanted)] if len(wanted) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CheckpointError(f"checkpoint id {checkpoint_id!r} is ambiguous ({len(matches)} match); "
                                  "give more characters")
        raise CheckpointError(f"unknown checkpoint {checkpoint_id!r} for {self.root} "
                              "(`agentls checkpoints list` shows the ids)")

    def _read(self, key: str) -> tuple[Meta, bytes]:
        """A checkpoint's metadata and tree, by key."""
        commit = self.repo.read_ref(f"{CP_REFS}/{key}")
        if commit is None:
            raise CheckpointError(f"unknown checkpoint {public_id(key)!r} for {self.root}")
        with self._cache_lock:
            cached = self._commits.get(commit)
        if cached is None:
            tree, message = self.repo.odb.commit(commit)
            meta = Meta.parse(message)
            if meta is None:
                raise CheckpointError(f"checkpoint {public_id(key)} is damaged (no metadata)")
            cached = (meta, tree)
            with self._cache_lock:
                if len(self._commits) > 1024:
                    self._commits.clear()
                self._commits[commit] = cached
        meta, tree = cached
        return dataclasses.replace(meta, files=list(meta.files), skipped=list(meta.skipped)), tree

    def _reliable_tree(self, cid: str, rel: str) -> bytes | None:
        """The tree holding path ``rel`` as of checkpoint ``cid`` without a scan: its own when it is
        complete or read ``rel``, else the first later checkpoint that read ``rel``; None: needs a scan."""
        pending = set(self.repo.ids(PENDING_REFS))
        for later in (c for c in self.repo.ids() if c >= cid):
            meta, tree = self._read(later)
            if later not in pending or meta.covered is None or rel in meta.covered:
                return tree
        return None

    # -- restore ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _restore_locks(self, cid: str, prefixes: builtins.list[str] | None) -> Iterator[ScanResult | None]:
        """The locks a restore of ``prefixes`` needs; yields the scan it made (None: paths only)."""
        if prefixes is not None and self._paths_only(cid, prefixes):
            with self.repo.commit_lock.hold():
                yield None
            return
        with self.repo.scan_lock.hold():
            result, _ = self._scan_and_complete()
            with self.repo.commit_lock.hold():
                yield result

    def _paths_only(self, cid: str, prefixes: builtins.list[str]) -> bool:
        """Whether every path is a file (or absent) both in the checkpoint and on disk, and the
        checkpoint's content for it is known without a scan."""
        for rel in prefixes:
            tree = self._reliable_tree(cid, rel)
            if tree is None:
                return False
            entry = self.repo.odb.lookup(tree, rel)
            if entry is not None and entry.mode == MODE_TREE:
                return False
            if (self.root / rel).is_dir() and not (self.root / rel).is_symlink():
                return False
        return True

    def _plan(self, cid: str, prefixes: builtins.list[str] | None, scanned: ScanResult | None
              ) -> tuple[Meta, builtins.list[_Item], builtins.list[str]]:
        meta, tree = self._read(cid)
        odb = self.repo.odb
        items: builtins.list[_Item] = []
        skipped: builtins.list[str] = []
        if scanned is None:
            assert prefixes is not None
            candidates = []
            for rel in prefixes:
                if self._excluded(rel):
                    skipped.append(rel)
                    continue
                source = self._reliable_tree(cid, rel)
                target = odb.lookup(source, rel) if source is not None else None
                current, untouchable = self._current(rel)
                if untouchable:
                    skipped.append(rel)
                elif target != current:
                    candidates.append(_Item(rel, current, target))
        else:
            candidates = [_Item(path, new, old) for path, old, new in odb.diff(tree, scanned.tree)
                          if prefixes is None or any(path == p or path.startswith(p + "/") for p in prefixes)]
            deleted = {item.path for item in candidates if item.target is None}
            kept = []
            for item in candidates:
                if item.target is None and item.path in meta.skipped:
                    skipped.append(item.path)  # over the size limit when the checkpoint was taken
                    continue
                if self._excluded(item.path, deleted):
                    skipped.append(item.path)
                    continue
                on_disk = self.root / item.path
                if item.current is None and os.path.lexists(on_disk) and not on_disk.is_dir():
                    skipped.append(item.path)  # on disk but not captured now: large, ignored, special
                    continue
                kept.append(item)
            candidates = kept
        # git cannot tell about a path below a symlink (one this restore replaces): it was not ignored
        # when the checkpoint captured it.
        ignored = self._ignored([item.path for item in candidates if not self._below_symlink(item.path)])
        for item in candidates:
            if item.path in ignored:
                skipped.append(item.path)
            else:
                items.append(item)
        return meta, items, sorted(set(skipped))

    def _current(self, rel: str) -> tuple[Entry | None, bool]:
        """The entry of the file on disk now (None: absent) and whether a restore must leave it alone
        (over the size limit, a directory, a special file)."""
        path = self.root / rel
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None, False
        if stat.S_ISREG(st.st_mode) and st.st_size > self.max_file_bytes:
            return None, True
        found = blob_entry(path, st)
        return (found[0] if found else None), found is None

    def _file_restore(self, item: _Item) -> FileRestore:
        data = None
        if item.target is not None:
            _, data = self.repo.odb.read(item.target.sha)
        return FileRestore(item.path, item.current.sha.hex() if item.current else None, data,
                           item.target.mode if item.target else None)

    def _apply(self, items: builtins.list[_Item], contents: dict[str, bytes], skip: set[str],
               safety_id: str) -> tuple[builtins.list[str], builtins.list[str], builtins.list[str]]:
        restored: builtins.list[str] = []
        deleted: builtins.list[str] = []
        created: builtins.list[str] = []
        done = 0
        ordered = [i for i in items if i.target is None] + [i for i in items if i.target is not None]
        for item in ordered:
            if item.path in skip:
                continue
            try:
                if item.target is None:
                    fileops.delete_file(self.root, item.path)
                    deleted.append(item.path)
                else:
                    fileops.write_file(self.root, item.path, contents[item.path], item.target.mode)
                    (created if item.current is None else restored).append(item.path)
            except (OSError, CheckpointError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise CheckpointError(f"restore stopped at {item.path}: {reason}; {done} file(s) already changed, "
                                      f"undo with: agentls checkpoints restore {safety_id}") from exc
            done += 1
        return sorted(restored), sorted(deleted), sorted(created)

    # -- background work ----------------------------------------------------------------------

    def _request_scan(self, delay: float = SCAN_DEBOUNCE_S) -> None:
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

    def _ensure_worker(self) -> None:
        if self._stop.is_set():
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name=f"agentls-checkpoints:{self.root.name}",
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
            self._open()
            with self.repo.scan_lock.hold():
                _, seconds = self._scan_and_complete(self._stop)
                with self.repo.commit_lock.hold():
                    more = bool(self.repo.ids(PENDING_REFS))
        except CheckpointError as exc:
            self.last_scan_error = str(exc)
            if not self._stop.is_set():
                log.warning("checkpoints of %s: background scan failed: %s", self.root, exc)
            return
        except OSError as exc:
            self.last_scan_error = f"{exc.strerror or exc}"
            log.warning("checkpoints of %s: background scan failed: %s", self.root, exc)
            return
        self.last_scan_seconds = seconds
        self.last_scan_error = None
        log.debug("checkpoints of %s: scan took %.2f s", self.root, seconds)
        if baseline:
            with self._cond:
                self._baseline_wanted = False
            self._baseline_done.set()
        if more:
            self._request_scan()  # checkpoints taken while it ran: the next scan completes them

    def _gc(self) -> None:
        try:
            with self.repo.scan_lock.hold():
                started = time.perf_counter()
                self.repo.git.run("gc", "--quiet", "--prune=10.minutes.ago")
                self.repo.odb.refresh()
            log.debug("checkpoints of %s: gc took %.2f s", self.root, time.perf_counter() - started)
        except CheckpointError as exc:
            log.warning("checkpoints of %s: gc failed: %s", self.root, exc)

