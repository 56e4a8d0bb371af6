"""The shadow repository on disk: its layout, its refs and checkpoint keys, its creation and repair.

Layout, under ``<data dir>/checkpoints/<workspace name>-<hash of its real path>/``::

    workspace            the workspace's real path (for people looking around)
    commit.lock          flock: taking or completing a checkpoint, moving refs, restoring
    scan.lock            flock: anything that uses the index (whole-tree scans, gc)
    scan-running         while a scan runs: the newest checkpoint key when it began
    home/                an empty HOME for git
    repo/                GIT_DIR (core.worktree = the workspace)
      HEAD               ref: refs/heads/scan
      config             written by us: hooks off, no filters, no gc.auto, no ref packing...
      index              the shadow index: stat data of every file, so unchanged files are not re-hashed
      info/exclude       the workspace's .git/info/exclude (copied), nested repositories, our data dir
      info/attributes    "* -text -filter ...": content is stored byte for byte
      objects/           loose objects and packs
      refs/heads/scan    the latest whole-tree scan (its tree is the index's)
      refs/agentls/cp/<key>       one ref per checkpoint (loose refs only: gc.packRefs = false)
      refs/agentls/pending/<key>  checkpoints whose files outside their paths are not yet confirmed
      refs/agentls/applied/<key>  an accept's texts right after it was applied (``buffers.py``)

A checkpoint's key is ``<milliseconds, 12 hex digits>-<id>``: refs sort by time, and the id people
type (8 random hex digits, like a short commit id) is unique from its first few characters.

The two locks are held in that order (scan, then commit) by one thread at a time and by one process
at a time (``fcntl.flock``, see ``locks.py``), so two editors on one workspace serialise their
checkpoints. The files agentls writes there itself (config, attributes, exclude) are made by
``shadow_files.py``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from agentls.checkpoints.gitcmd import Git
from agentls.checkpoints.locks import FileLock
from agentls.checkpoints.objects import ObjectStore
from agentls.checkpoints.shadow_files import (
    ATTRIBUTES,
    config_text,
    escape_pattern,
    shadow_dir,
    user_exclude_file,
    write_if_changed,
)
from agentls.errors import CheckpointError

log = logging.getLogger(__name__)

SCAN_REF = "refs/heads/scan"
CP_REFS = "refs/agentls/cp"
PENDING_REFS = "refs/agentls/pending"
#: The texts right after an accept, by the key of its checkpoint (``buffers.py``).
APPLIED_REFS = "refs/agentls/applied"
_KEY = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{8}$")
_SHA = re.compile(rb"^[0-9a-f]{40}\n?$")
COMMIT_LOCK_TIMEOUT_S = 60.0
SCAN_LOCK_TIMEOUT_S = 600.0
#: Unusable shadow repositories moved aside by ``ShadowRepo.open``: how many are kept for inspection.
KEEP_BROKEN = 2


class ShadowRepo:
    """One workspace's shadow repository (see the module docstring for the layout)."""

    def __init__(self, root: Path, data_dir: Path, deny: Sequence[str] = ()) -> None:
        self.root = root
        #: Never captured (gitignore patterns): the deny-list and the protected paths.
        self.deny = tuple(deny)
        self.dir = shadow_dir(data_dir, root)
        self.git_dir = self.dir / "repo"
        self.home = self.dir / "home"
        self.git = Git(self.git_dir, root, self.home)
        self.odb = ObjectStore(self.git_dir / "objects")
        self.commit_lock = FileLock(self.dir / "commit.lock", COMMIT_LOCK_TIMEOUT_S, "checkpoint")
        self.scan_lock = FileLock(self.dir / "scan.lock", SCAN_LOCK_TIMEOUT_S, "scan")

    def exists(self) -> bool:
        return (self.git_dir / "HEAD").is_file()

    # -- creation, verification, repair -------------------------------------------------------

    def prepare_dir(self) -> None:
        """Create the shadow directory (not the repository): the locks live there."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(f"cannot create the checkpoint directory {self.dir}: {exc.strerror}") from exc

    def open(self, scan_locked: bool) -> list[str]:
        """Create the repository, or verify and repair it; returns what was repaired (for the log).

        Call with the commit lock held, and with the scan lock when ``scan_locked`` (then the
        index's and packs' temporary files are cleaned up too). Stale lock and temporary files of a
        crashed run are removed, a ref that is unreadable or names a missing commit is dropped (the
        rest is kept), the config, HEAD and info files are rewritten when they differ. A repository
        beyond repair (its objects directory gone or not a directory) is moved aside (kept for
        inspection, the newest ``KEEP_BROKEN`` copies only) and created afresh.
        """
        repairs: list[str] = []
        git_dir = self.git_dir
        fresh = not git_dir.exists()
        if not fresh and not (git_dir.is_dir() and (git_dir / "objects").is_dir()):
            broken = self.dir / f"repo.broken-{int(time.time())}"
            os.replace(git_dir, broken)
            repairs.append(f"the shadow repository was unusable; moved to {broken.name} and created afresh")
        repairs.extend(self.remove_old_broken())
        for sub in ("objects/pack", "objects/info", "refs/heads", "refs/tags", CP_REFS, PENDING_REFS, "info"):
            (git_dir / sub).mkdir(parents=True, exist_ok=True)
        self.home.mkdir(exist_ok=True)
        write_if_changed(self.dir / "workspace", str(self.root) + "\n")
        if write_if_changed(git_dir / "HEAD", f"ref: {SCAN_REF}\n") and not fresh:
            repairs.append("HEAD rewritten")
        write_if_changed(git_dir / "config", config_text(self.root))
        write_if_changed(git_dir / "info" / "attributes", ATTRIBUTES)
        self.write_exclude(self.nested_in_exclude())  # the workspace's own exclude file may have changed
        repairs.extend(self._remove_stale_files(scan_locked))
        repairs.extend(self._check_refs())
        return repairs

    def _remove_stale_files(self, scan_locked: bool) -> list[str]:
        removed = []
        candidates = [self.git_dir / name for name in ("HEAD.lock", "config.lock", "packed-refs.lock")]
        candidates += self.git_dir.glob("refs/**/*.lock")
        if scan_locked:
            # Loose objects being written by another process's fast path are never older than a few
            # ms; files of a scan (index.lock, a pack being written) are only stale without its lock.
            candidates.append(self.git_dir / "index.lock")
            candidates.append(self.dir / "scan-running")
            candidates += self.git_dir.glob("objects/pack/tmp_*")
            candidates += self.git_dir.glob("objects/pack/.tmp-*")
            candidates += self.git_dir.glob("objects/*/tmp_obj_*")
        for path in candidates:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(f"stale {path.relative_to(self.dir)} removed")
        return removed

    def _check_refs(self) -> list[str]:
        """Drop refs that cannot be used. Checkpoint refs: the commit must exist (cheap: a stat or an
        index lookup each). The scan ref and pending ones, which later checkpoints build on: the
        commit must be readable and its tree present."""
        if (self.git_dir / "packed-refs").exists():
            # We never pack refs; a stray packed-refs (a manual `git gc`) is folded back into loose refs.
            self._unpack_refs()
        repairs = []
        checkpoint_ids = set(self.ids())
        refs = [SCAN_REF, *(f"{CP_REFS}/{i}" for i in sorted(checkpoint_ids)),
                *(f"{PENDING_REFS}/{i}" for i in self.ids(PENDING_REFS))]
        for ref in refs:
            path = self.git_dir / ref
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue
            problem = None
            if not _SHA.match(raw):
                problem = "is unreadable"
            elif ref.startswith(PENDING_REFS) and ref.rsplit("/", 1)[1] not in checkpoint_ids:
                problem = "has no checkpoint"
            else:
                sha = bytes.fromhex(raw[:40].decode())
                if not self.odb.has(sha):
                    problem = "names a missing commit"
                elif not ref.startswith(CP_REFS):
                    try:
                        tree, _ = self.odb.commit(sha)
                        if not self.odb.has(tree):
                            problem = "names a commit whose tree is missing"
                    except CheckpointError:
                        problem = "names a damaged commit"
            if problem:
                path.unlink()
                repairs.append(f"{ref} {problem}; dropped")
                if ref.startswith(CP_REFS):
                    (self.git_dir / PENDING_REFS / ref.rsplit("/", 1)[1]).unlink(missing_ok=True)
        return repairs

    def _unpack_refs(self) -> None:
        packed = self.git_dir / "packed-refs"
        log.warning("%s: folding packed-refs back into loose refs", self.git_dir)
        for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
            sha, _, ref = line.partition(" ")
            if ref.startswith("refs/") and re.fullmatch(r"[0-9a-f]{40}", sha):
                target = self.git_dir / ref
                if not target.exists():
                    self.write_ref(ref, bytes.fromhex(sha))
        packed.unlink()

    def write_exclude(self, nested: list[str]) -> bool:
        """info/exclude = the workspace's own exclude file, nested repositories, our data dir."""
        lines = ["# Written by agentls. The workspace's .git/info/exclude (read only, copied):"]
        user = user_exclude_file(self.root)
        if user is not None:
            with contextlib.suppress(OSError):
                lines.append(user.read_text(encoding="utf-8", errors="surrogateescape").rstrip("\n"))
        if self.deny:
            lines.append("# agentls' deny-list (tools.deny) and protected paths: never captured.")
            lines.extend(self.deny)
        lines.append("# Nested repositories and submodules: excluded, never touched.")
        lines.extend(escape_pattern(rel) for rel in sorted(nested))
        inside = self.dir.resolve()
        if inside.is_relative_to(self.root) and inside != self.root:
            lines.append("# agentls' own data")
            lines.append(escape_pattern(inside.relative_to(self.root).as_posix()))
        return write_if_changed(self.git_dir / "info" / "exclude", "\n".join(lines) + "\n")

    def nested_in_exclude(self) -> list[str]:
        """The nested repositories listed in info/exclude by the last scan."""
        try:
            text = (self.git_dir / "info" / "exclude").read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return []
        _, _, tail = text.partition("# Nested repositories and submodules: excluded, never touched.\n")
        tail = tail.split("\n# agentls' own data", 1)[0]
        return [re.sub(r"\\(.)", r"\1", line[1:-1]) for line in tail.splitlines() if line.startswith("/")]

    # -- refs ---------------------------------------------------------------------------------

    def read_ref(self, ref: str) -> bytes | None:
        try:
            raw = (self.git_dir / ref).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not _SHA.match(raw):
            raise CheckpointError(f"the shadow repository's {ref} is damaged")
        return bytes.fromhex(raw[:40].decode())

    def write_ref(self, ref: str, sha: bytes) -> None:
        """git's protocol: create ``<ref>.lock`` exclusively, write, rename over the ref."""
        path = self.git_dir / ref
        lock = path.with_name(path.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                os.write(fd, sha.hex().encode() + b"\n")
            finally:
                os.close(fd)
            os.replace(lock, path)
        except BaseException:
            lock.unlink(missing_ok=True)
            raise

    def delete_ref(self, ref: str) -> None:
        (self.git_dir / ref).unlink(missing_ok=True)

    def ids(self, namespace: str = CP_REFS) -> list[str]:
        """Keys of the checkpoints with a ref in ``namespace``, oldest first (keys sort by time)."""
        try:
            names = os.listdir(self.git_dir / namespace)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(name for name in names if _KEY.match(name))

    def new_key(self) -> str:
        """A new checkpoint key: later than every existing one, with an id of its own. Hold the commit lock."""
        existing = self.ids()
        now = int(time.time() * 1000)
        if existing:
            now = max(now, int(existing[-1][:12], 16) + 1)
        taken = {public_id(key) for key in existing}
        while (checkpoint_id := secrets.token_hex(4)) in taken:
            pass
        return f"{now:012x}-{checkpoint_id}"

    def mark_scan_running(self, last_key: str | None) -> None:
        """Note that a scan began after checkpoint ``last_key`` ("" : before any), or (None) that it ended."""
        marker = self.dir / "scan-running"
        if last_key is None:
            marker.unlink(missing_ok=True)
        else:
            write_if_changed(marker, last_key + "\n")

    def scan_running(self) -> str | None:
        """The key noted by a scan running now (in any process), None when none is."""
        try:
            return (self.dir / "scan-running").read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def remove_index(self) -> None:
        (self.git_dir / "index").unlink(missing_ok=True)

    def remove_old_broken(self, keep: int = KEEP_BROKEN) -> list[str]:
        """Delete all but the newest ``keep`` repositories that ``open`` moved aside; returns what it removed."""
        broken = sorted(self.dir.glob("repo.broken-*"), key=_broken_time)
        removed = []
        for path in broken[:max(len(broken) - keep, 0)]:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(f"old {path.name} removed")
        return removed


def _broken_time(path: Path) -> tuple[int, str]:
    """``repo.broken-<seconds>``, oldest first (by the number, not the string); odd names first."""
    stamp = path.name.removeprefix("repo.broken-")
    return (int(stamp) if stamp.isdigit() else -1, path.name)


def public_id(key: str) -> str:
    """The id people see and type, from a checkpoint's key."""
    return key[13:]

