"""The checkpoints already taken: found by id, read, listed, recorded in the store, pruned.

A checkpoint is its ref (``refs/agentls/cp/<key>``) and the commit it names; the store's rows are
only an index for listing, kept in step here (a row that could not be written is added again when
the store is next reconciled). Retention lives here too: past ``retention`` checkpoints the oldest
refs and rows are dropped, and every so often a ``git gc`` is asked for to free their objects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import cast

from agentls.checkpoints.model import Checkpoint, Meta, Trigger
from agentls.checkpoints.shadow import APPLIED_REFS, CP_REFS, PENDING_REFS, ShadowRepo, public_id
from agentls.errors import CheckpointError
from agentls.store.db import CheckpointRecord, Store

log = logging.getLogger(__name__)

#: Commits whose metadata is cached before the cache starts over.
_CACHED_COMMITS = 1024


class History:
    """The checkpoints of the workspace of ``repo``, with their rows in ``store`` (when there is one)."""

    def __init__(self, repo: ShadowRepo, store: Store | None, retention: int, request_gc: Callable[[], None]) -> None:
        self.repo = repo
        self.store = store
        self.retention = retention
        self._request_gc = request_gc
        self._workspace_key = str(repo.root)
        self._cache_lock = threading.Lock()
        self._commits: dict[bytes, tuple[Meta, bytes]] = {}
        self._pruned_since_gc = 0

    # -- reading ------------------------------------------------------------------------------

    def newest(self, limit: int) -> list[Checkpoint]:
        """Up to ``limit`` checkpoints, newest first (the store's rows when there is a store)."""
        if self.store is not None:
            return [Checkpoint(r.id, r.time, cast(Trigger, r.trigger), r.session_id, r.step, r.summary,
                               r.files) for r in self.store.checkpoints(self._workspace_key, limit)]
        result = []
        for key in reversed(self.repo.ids()[-limit:] if limit > 0 else []):
            with contextlib.suppress(CheckpointError):
                result.append(self.read(key)[0].checkpoint())
        return result

    def resolve(self, checkpoint_id: str) -> str:
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
        raise CheckpointError(f"unknown checkpoint {checkpoint_id!r} for {self.repo.root} "
                              "(`agentls checkpoints list` shows the ids)")

    def read(self, key: str) -> tuple[Meta, bytes]:
        """A checkpoint's metadata and tree, by key."""
        commit = self.repo.read_ref(f"{CP_REFS}/{key}")
        if commit is None:
            raise CheckpointError(f"unknown checkpoint {public_id(key)!r} for {self.repo.root}")
        with self._cache_lock:
            cached = self._commits.get(commit)
        if cached is None:
            tree, message = self.repo.odb.commit(commit)
            meta = Meta.parse(message)
            if meta is None:
                raise CheckpointError(f"checkpoint {public_id(key)} is damaged (no metadata)")
            cached = (meta, tree)
            with self._cache_lock:
                if len(self._commits) > _CACHED_COMMITS:
                    self._commits.clear()
                self._commits[commit] = cached
        meta, tree = cached
        return dataclasses.replace(meta, files=list(meta.files), skipped=list(meta.skipped)), tree

    def reliable_tree(self, cid: str, rel: str) -> bytes | None:
        """The tree holding path ``rel`` as of checkpoint ``cid`` without a scan: its own when it is
        complete or read ``rel``, else the first later checkpoint that read ``rel``; None: needs a scan."""
        pending = set(self.repo.ids(PENDING_REFS))
        for later in (c for c in self.repo.ids() if c >= cid):
            meta, tree = self.read(later)
            if later not in pending or meta.covered is None or rel in meta.covered:
                return tree
        return None

    # -- the store ----------------------------------------------------------------------------

    def record(self, meta: Meta) -> None:
        """Add the checkpoint's row to the store (a failure is logged: the commit is the data)."""
        if self.store is None:
            return
        try:
            self.store.add_checkpoint(CheckpointRecord(meta.id, self._workspace_key, meta.session_id, meta.step,
                                                       meta.time, meta.trigger, meta.summary, meta.files))
        except Exception as exc:  # the commit is the data; the row is rebuilt when the store is next opened
            log.warning("checkpoint %s not recorded in the store: %s", meta.id, exc)

    def reconcile_store(self) -> None:
        """Make the store's rows match the refs: drop rows of vanished checkpoints, add missing ones."""
        if self.store is None:
            return
        keys = {public_id(key): key for key in self.repo.ids()}
        rows = self.store.checkpoint_ids(self._workspace_key)
        if rows - keys.keys():
            self.store.delete_checkpoints(self._workspace_key, rows - keys.keys())
        for checkpoint_id in sorted(keys.keys() - rows):
            with contextlib.suppress(CheckpointError):
                self.record(self.read(keys[checkpoint_id])[0])

    # -- retention ----------------------------------------------------------------------------

    def prune(self) -> None:
        """Drop the oldest checkpoints beyond ``retention`` (hold the commit lock); ask for a gc once
        enough have gone."""
        ids = self.repo.ids()
        excess = ids[: max(0, len(ids) - self.retention)]
        if not excess:
            return
        for cid in excess:
            self.repo.delete_ref(f"{PENDING_REFS}/{cid}")
            self.repo.delete_ref(f"{CP_REFS}/{cid}")
            self.repo.delete_ref(f"{APPLIED_REFS}/{cid}")
        if self.store is not None:
            try:
                self.store.delete_checkpoints(self._workspace_key, [public_id(key) for key in excess])
            except Exception as exc:
                log.warning("pruned checkpoints not removed from the store: %s", exc)
        self._pruned_since_gc += len(excess)
        if self._pruned_since_gc >= max(1, min(50, self.retention // 4)):
            self._pruned_since_gc = 0
            self._request_gc()
