"""Restoring a checkpoint: which files a restore changes (the plan), and writing them back.

A restore of a few files the checkpoint is known to hold (files, not directories) needs no scan:
their content comes from the checkpoint or, when it is pending, from the first later checkpoint
that read them. Anything else is compared with a fresh whole-tree scan. Either way, paths a
checkpoint does not capture (ignored, excluded, over the size limit, special files) are left alone
and reported as skipped, and a safety checkpoint of the current state is taken before any write. The
files are written in one transaction (``agentls.write_transaction``): all or nothing, never through a
symlink swapped in for a directory, and a crash midway is reported at the next start.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import agentls.checkpoints.paths as wspaths
from agentls.checkpoints.capture import Capture
from agentls.checkpoints.history import History
from agentls.checkpoints.model import FileRestore, Meta, RestorePlan, RestoreResult
from agentls.checkpoints.objects import MODE_EXEC, MODE_LINK, MODE_TREE, Entry
from agentls.checkpoints.scan import ScanResult, blob_entry
from agentls.checkpoints.shadow import ShadowRepo
from agentls.errors import CheckpointError
from agentls.write_transaction import ON_DISK, FileWrite, WriteFailed, write_all


@dataclass
class _Item:
    path: str
    current: Entry | None
    target: Entry | None


class Restorer:
    """Plans and applies restores of the workspace of ``repo``."""

    def __init__(self, repo: ShadowRepo, history: History, capture: Capture, max_file_bytes: int) -> None:
        self.repo = repo
        self.root = repo.root
        self.history = history
        self.capture = capture
        self.max_file_bytes = max_file_bytes

    def plan(self, cid: str, prefixes: list[str] | None) -> RestorePlan:
        """What restoring checkpoint ``cid`` (under ``prefixes``) would change; nothing is written."""
        with self._locks(cid, prefixes) as scanned:
            meta, items, skipped = self._plan(cid, prefixes, scanned)
            return RestorePlan(meta.checkpoint(), [self._file_restore(item) for item in items], skipped)

    def restore(self, cid: str, prefixes: list[str] | None, skip: set[str],
                buffers: Mapping[str, str] | None = None) -> RestoreResult:
        """Restore checkpoint ``cid`` (under ``prefixes``) after a safety checkpoint (with the editor's
        ``buffers`` for open files), leaving the paths in ``skip`` alone."""
        with self._locks(cid, prefixes) as scanned:
            meta, items, skipped = self._plan(cid, prefixes, scanned)
            # Read the checkpoint's bytes first: the safety checkpoint may prune it (retention).
            contents = {item.path: self.repo.odb.read(item.target.sha)[1] for item in items
                        if item.target is not None and item.path not in skip}
            summary = f"before restoring {meta.id}" + (f" ({', '.join(prefixes)})" if prefixes else "")
            changed = [item.path for item in items]
            if scanned is not None:
                safety = self.capture.of_scan(scanned, "restore", None, None, summary, files=changed, texts=buffers)
            else:
                wanted = changed + [rel for rel in buffers or {} if rel not in changed]
                safety = self.capture.of_paths(wanted, "restore", None, None, summary, texts=buffers)
            restored, deleted, created = self._apply(meta.id, items, contents, skip, safety.id)
        return RestoreResult(restored, deleted, created, safety.id, sorted(set(skipped) | (skip & set(changed))))

    @contextlib.contextmanager
    def _locks(self, cid: str, prefixes: list[str] | None) -> Iterator[ScanResult | None]:
        """The locks a restore of ``prefixes`` needs; yields the scan it made (None: paths only)."""
        if prefixes is not None and self._paths_only(cid, prefixes):
            with self.repo.commit_lock.hold():
                yield None
            return
        with self.repo.scan_lock.hold():
            result, _ = self.capture.scan_and_complete()
            with self.repo.commit_lock.hold():
                yield result

    def _paths_only(self, cid: str, prefixes: list[str]) -> bool:
        """Whether every path is a file (or absent) both in the checkpoint and on disk, and the
        checkpoint's content for it is known without a scan."""
        for rel in prefixes:
            tree = self.history.reliable_tree(cid, rel)
            if tree is None:
                return False
            entry = self.repo.odb.lookup(tree, rel)
            if entry is not None and entry.mode == MODE_TREE:
                return False
            if (self.root / rel).is_dir() and not (self.root / rel).is_symlink():
                return False
        return True

    def _plan(self, cid: str, prefixes: list[str] | None, scanned: ScanResult | None
              ) -> tuple[Meta, list[_Item], list[str]]:
        meta, tree = self.history.read(cid)
        odb = self.repo.odb
        items: list[_Item] = []
        skipped: list[str] = []
        if scanned is None:
            assert prefixes is not None
            candidates = []
            for rel in prefixes:
                if wspaths.excluded(self.root, rel):
                    skipped.append(rel)
                    continue
                source = self.history.reliable_tree(cid, rel)
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
                if wspaths.excluded(self.root, item.path, deleted):
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
        ignored = wspaths.ignored(self.repo, [item.path for item in candidates
                                              if not wspaths.below_symlink(self.root, item.path)])
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

    def _apply(self, cid: str, items: list[_Item], contents: dict[str, bytes], skip: set[str],
               safety_id: str) -> tuple[list[str], list[str], list[str]]:
        kept = [item for item in items if item.path not in skip]
        write_back(self.root, [(item.path, contents[item.path] if item.target else None,
                                item.target.mode if item.target else None) for item in kept], cid, safety_id)
        restored = [i.path for i in kept if i.target is not None and i.current is not None]
        created = [i.path for i in kept if i.target is not None and i.current is None]
        deleted = [i.path for i in kept if i.target is None]
        return sorted(restored), sorted(deleted), sorted(created)


def write_back(root: Path, files: list[tuple[str, bytes | None, int | None]], cid: str, safety_id: str) -> None:
    """Give each ``(path, data, git mode)`` its checkpoint's content (``data`` None: delete it, and the directories
    this leaves empty) in one transaction (``write_transaction``): every file or none. Raises ``CheckpointError``
    (one line naming the file, the cause and the safety checkpoint ``safety_id``)."""
    undo = f"the state before the restore is checkpoint {safety_id} (agentls checkpoints restore {safety_id})"
    writes = []
    for rel, data, mode in files:
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(part in ("", ".", "..", ".git") for part in parts):
            raise CheckpointError(f"could not restore checkpoint {cid}: refusing to restore {rel!r}, not a plain path "
                                  f"inside the workspace; nothing was changed; {undo}")
        if data is None:
            writes.append(FileWrite(rel, ON_DISK, None, prune=True))
        else:
            writes.append(FileWrite(rel, ON_DISK, data, executable=mode == MODE_EXEC, symlink=mode == MODE_LINK))
    try:
        write_all(str(root), writes, restoring=cid, safety=safety_id)
    except WriteFailed as exc:
        raise CheckpointError(f"could not restore checkpoint {cid}: {exc}; {undo}") from exc
