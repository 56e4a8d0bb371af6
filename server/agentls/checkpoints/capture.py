"""Taking checkpoints: of known paths without a scan, of a whole-tree scan, and completing the
pending ones when a scan finishes.

Two ways to take a checkpoint:

* **Known paths** (``Capture.of_paths``, before an edit or an accept): the files about to be
  written are read and hashed, and so are the files the agent was about to write since the latest
  whole-tree scan began (the scan may have read them before that write); every other file is
  carried from that scan, and only the trees on the way to the files read are rewritten. No scan,
  no index: a handful of objects and a few milliseconds, whatever the size of the workspace.
* **Whole tree** (``Capture.of_scan``: after a command, a restore's safety checkpoint): a scan
  (``scan.py``), stat-cached by the shadow index, so only changed files are read.

Until a scan has finished since this ``Capture`` was created (the first checkpoints of a session,
while the baseline scan still runs), what the latest scan says about the other files is not
trusted: the checkpoint is *pending*, and the next scan *completes* it. A path is then taken from
the earliest checkpoint at or after it that read the path (by contract, the agent checkpoints a
file before writing it, so that checkpoint has the content as of the pending one); every other
path is as the scan found it. Restoring or comparing a pending checkpoint runs that scan first.

What this cannot know: a file changed by someone other than the agent (the user, a command) after
the latest scan and before a known-paths checkpoint is carried in the scan's version (scans run in
the background about a second after each burst of checkpoints, so the window is small, and a
restore's safety checkpoint keeps whatever was on disk). For a pending checkpoint such a change
made before the completing scan counts as already there.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import agentls.checkpoints.buffers as buffers
import agentls.checkpoints.paths as wspaths
from agentls.checkpoints.history import History
from agentls.checkpoints.model import MAX_LISTED_FILES, Meta, Trigger, summarize, with_skipped
from agentls.checkpoints.objects import EMPTY_TREE, MODE_TREE, Entry
from agentls.checkpoints.scan import ScanResult, blob_entry, scan
from agentls.checkpoints.shadow import CP_REFS, PENDING_REFS, SCAN_REF, ShadowRepo, public_id
from agentls.errors import CheckpointError

log = logging.getLogger(__name__)

#: At most this many paths written since the last scan are read again by a checkpoint.
MAX_REREAD = 5000
_SCAN_PREFIX = "agentls-scan: "


@dataclass(frozen=True)
class _ScanInfo:
    tree: bytes
    time: float
    last_id: str


class Capture:
    """Takes the checkpoints of the workspace of ``repo``, recorded and pruned through ``history``."""

    def __init__(self, repo: ShadowRepo, history: History, max_file_bytes: int) -> None:
        self.repo = repo
        self.root = repo.root
        self.history = history
        self.max_file_bytes = max_file_bytes
        self._started = time.time()

    def of_paths(self, paths: Sequence[str], trigger: Trigger, session_id: str | None, step: int | None,
                 summary: str, texts: Mapping[str, str] | None = None,
                 applied: Mapping[str, str] | None = None) -> Meta:
        """A checkpoint of the files ``paths`` (and of those to read again), the rest carried from
        the latest scan; pending when no scan has finished since this was created. Takes the commit lock.
        ``texts``: editor buffers, taken instead of the files on disk; ``applied``: the texts right after
        the accept this checkpoint guards (``buffers.py``)."""
        texts = buffers.normalise(self.root, texts)
        applied = buffers.normalise(self.root, applied)
        wanted: list[str] = []
        for path in paths:
            rel = wspaths.relative(self.root, path)
            if rel is not None and rel not in wanted and not wspaths.excluded(self.root, rel):
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
                        again.update(dict.fromkeys(self.history.read(cid)[0].covered or []))
            candidates = wanted + [p for p in again if p not in wanted][:MAX_REREAD]
            ignored = wspaths.ignored(self.repo, candidates)
            changes: dict[str, Entry | None] = {}
            skipped: list[str] = []
            for rel in candidates:
                if rel in ignored:
                    continue
                if rel in texts and rel in wanted:
                    if len(buffers.encode(texts[rel])) > self.max_file_bytes:
                        skipped.append(rel)
                    else:
                        changes[rel] = buffers.buffer_entry(self.repo, rel, texts[rel])
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
                        files[:MAX_LISTED_FILES], list(changes), skipped,
                        [rel for rel in wanted if rel in texts and rel in changes])
            commit = odb.write_commit(tree, meta.message(), now)
            # Without a scan taken since this instance started, files outside `changes` are not known:
            # the checkpoint stays pending until a scan completes it (pending ref first: a crash
            # in between never leaves an incomplete checkpoint looking complete).
            if pending:
                self.repo.write_ref(f"{PENDING_REFS}/{key}", commit)
            self.repo.write_ref(f"{CP_REFS}/{key}", commit)
            if applied:
                buffers.record_applied(self.repo, key, applied, now)
            self.history.record(meta)
            self.history.prune()
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

    def of_scan(self, result: ScanResult, trigger: Trigger, session_id: str | None, step: int | None,
                summary: str, files: list[str] | None = None, texts: Mapping[str, str] | None = None) -> Meta:
        """A checkpoint of a scan's tree (hold the commit lock), with editor buffers' ``texts`` in place of
        their files."""
        tree, taken = buffers.overlay(self.repo, result.tree, buffers.normalise(self.root, texts),
                                      self.max_file_bytes)
        if files is None:
            files = sorted(path for path, _, _ in self.repo.odb.diff(result.previous, tree))
        now = time.time()
        key = self.repo.new_key()
        meta = Meta(public_id(key), now, trigger, session_id, step,
                    with_skipped(summary or summarize(trigger, files[:3], len(files)), result.skipped),
                    files[:MAX_LISTED_FILES], None, result.skipped[:MAX_LISTED_FILES], taken)
        commit = self.repo.odb.write_commit(tree, meta.message(), now)
        self.repo.write_ref(f"{CP_REFS}/{key}", commit)
        self.history.record(meta)
        self.history.prune()
        return meta

    def scan_and_complete(self, stop: threading.Event | None = None) -> tuple[ScanResult, float]:
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
                meta, tree = self.history.read(cid)
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

