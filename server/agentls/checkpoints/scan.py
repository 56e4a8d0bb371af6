"""A whole-tree scan: the workspace's current files as a tree in the shadow repository.

``git status`` against the shadow index finds what changed since the last scan (stat data, so an
unchanged file is never read again); only those paths are re-hashed (``git update-index``) and
``git write-tree`` makes the tree. The first scan of a workspace has every file to hash: writing
tens of thousands of loose objects is what makes the naive approach slow, so when many files are
new they are first written here into one pack (blobs and trees), and ``update-index`` then only
reads and hashes them (every object already exists).

What is never captured: ``.git`` entries, anything the workspace's ``.gitignore`` files or its
``.git/info/exclude`` ignore, nested repositories and submodules (a directory holding a ``.git``
file or directory: listed in the shadow's ``info/exclude``), and files over the size limit (listed
in ``ScanResult.skipped``). Files are stored as they are: binary or not, no line-ending conversion.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from agentls.checkpoints.gitcmd import LITERAL
from agentls.checkpoints.objects import EMPTY_TREE, MODE_EXEC, MODE_FILE, MODE_LINK, Entry, PackWriter, object_id
from agentls.checkpoints.shadow import SCAN_REF, ShadowRepo
from agentls.errors import CheckpointError

log = logging.getLogger(__name__)

#: Files to hash in one scan from which a pack is written instead of loose objects.
PACK_THRESHOLD = 64


class ScanStopped(CheckpointError):
    """The scan was stopped (``Checkpoints.close``)."""


@dataclass
class ScanResult:
    tree: bytes
    skipped: list[str] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)
    hashed: int = 0
    #: The previous scan's tree (set by the caller; what "files changed" is measured against).
    previous: bytes = EMPTY_TREE


def is_nested_repo(directory: Path) -> bool:
    """Whether ``directory`` holds a ``.git`` (a directory or a ``gitdir:`` file)."""
    try:
        os.lstat(directory / ".git")
    except OSError:
        return False
    return True


def mode_of(st: os.stat_result) -> int | None:
    """The git mode of a file on disk; None for what git does not store (directories, fifos...)."""
    if stat.S_ISREG(st.st_mode):
        return MODE_EXEC if st.st_mode & stat.S_IXUSR else MODE_FILE
    if stat.S_ISLNK(st.st_mode):
        return MODE_LINK
    return None


def read_content(path: str | Path, mode: int) -> bytes:
    if mode == MODE_LINK:
        return os.fsencode(os.readlink(path))
    with open(path, "rb") as handle:
        return handle.read()


def blob_entry(path: str | Path, st: os.stat_result) -> tuple[Entry, bytes] | None:
    """``(entry, content)`` of a regular file or symlink, None if it is something else."""
    mode = mode_of(st)
    if mode is None:
        return None
    data = read_content(path, mode)
    return Entry(mode, object_id(b"blob", data)), data


def _parse_status(output: bytes) -> tuple[set[str], set[str], set[str]]:
    """``(changed tracked paths, untracked files, untracked directories)`` from porcelain v2 -z."""
    changed: set[str] = set()
    untracked: set[str] = set()
    directories: set[str] = set()
    for record in output.split(b"\x00"):
        if not record:
            continue
        kind = record[:1]
        if kind == b"1":
            fields = record.split(b" ", 8)
            if len(fields) == 9 and fields[1][1:2] != b".":
                changed.add(os.fsdecode(fields[8]))
        elif kind == b"?":
            path = os.fsdecode(record[2:])
            if path.endswith("/"):
                directories.add(path.rstrip("/"))
            else:
                untracked.add(path)
        elif kind == b"u":
            changed.add(os.fsdecode(record.split(b" ", 10)[-1]))
    return changed, untracked, directories


def _under(path: str, directories: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:depth]) in directories for depth in range(1, len(parts)))


def scan(repo: ShadowRepo, max_file_bytes: int, stop: threading.Event | None = None) -> ScanResult:
    """Bring the shadow index up to date with the workspace and return its tree. Hold the scan lock."""
    git = repo.git
    root = repo.root
    head = repo.read_ref(SCAN_REF)
    head_tree = repo.odb.commit(head)[0] if head else EMPTY_TREE

    # Nested repositories: the ones known before (if still there) and tracked directories that became one.
    known = set(repo.nested_in_exclude())
    nested = {rel for rel in known if is_nested_repo(root / rel)}
    if head_tree != EMPTY_TREE:
        listing = git.run("ls-tree", "-d", "-r", "-z", "--name-only", head_tree.hex())
        for raw in listing.split(b"\x00"):
            if raw and is_nested_repo(root / os.fsdecode(raw)):
                nested.add(os.fsdecode(raw))
    exclude_changed = repo.write_exclude(sorted(nested))

    status_args = ("status", "--porcelain=v2", "-z", "--untracked-files=all", "--no-renames",
                   "--ignore-submodules=all")
    try:
        output = git.run(*status_args)
    except CheckpointError as exc:
        # A damaged index is only a cache: drop it and let every file be hashed again.
        log.warning("shadow index unusable (%s); rebuilding it", exc)
        repo.remove_index()
        output = git.run(*status_args)
    changed, untracked, directories = _parse_status(output)
    new_nested = {rel for rel in directories if is_nested_repo(root / rel)}
    if new_nested - nested:
        nested |= new_nested
        exclude_changed = repo.write_exclude(sorted(nested)) or exclude_changed

    force_remove: set[str] = set()
    if nested - known:
        # Files captured before the directory became a repository of its own: forget them.
        listed = git.run("ls-files", "-z", "--", *sorted(nested - known), env=LITERAL)
        force_remove.update(os.fsdecode(raw) for raw in listed.split(b"\x00") if raw)
    if exclude_changed or any(path.rsplit("/", 1)[-1] == ".gitignore" for path in changed | untracked):
        ignored = git.run("ls-files", "-z", "--cached", "--ignored", "--exclude-standard")
        force_remove.update(os.fsdecode(raw) for raw in ignored.split(b"\x00") if raw)

    skipped: list[str] = []
    update: list[str] = []
    stats: dict[str, os.stat_result] = {}
    prefix = str(root) + os.sep
    real_dirs: dict[str, bool] = {}
    for path in sorted(changed | untracked):
        if path in force_remove or (nested and _under(path, nested)):
            if path in changed:
                force_remove.add(path)
            continue
        if path in changed and not _plain_parents(prefix, path, real_dirs):
            force_remove.add(path)  # a directory on its way became a symlink or a file: git cannot look
            continue
        try:
            st = os.lstat(prefix + path)
        except OSError:
            update.append(path)  # gone: update-index --remove drops it
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size > max_file_bytes:
            skipped.append(path)
            if path in changed:
                force_remove.add(path)
            continue
        if stat.S_ISDIR(st.st_mode):
            update.append(path)  # a tracked file replaced by a directory: --remove drops it
            continue
        if mode_of(st) is None:
            if path in changed:
                force_remove.add(path)
            continue
        update.append(path)
        stats[path] = st

    hashed = len(stats)
    if hashed >= PACK_THRESHOLD:
        _prepack(repo, head_tree, stats, update, stop)
    if force_remove:
        git.run("update-index", "-z", "--force-remove", "--stdin", input=_nul_list(force_remove))
    if update:
        git.run("update-index", "-z", "--add", "--remove", "--replace", "--stdin", input=_nul_list(update))
    tree = bytes.fromhex(git.run("write-tree").decode().strip())
    return ScanResult(tree, skipped, sorted(nested), hashed)


def _plain_parents(prefix: str, path: str, cache: dict[str, bool]) -> bool:
    """Whether every directory on the way to ``path`` is a real directory (not a symlink)."""
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        directory = "/".join(parts[:depth])
        plain = cache.get(directory)
        if plain is None:
            try:
                plain = stat.S_ISDIR(os.lstat(prefix + directory).st_mode)
            except OSError:
                plain = True  # gone: update-index --remove handles a missing path
            cache[directory] = plain
        if not plain:
            return False
    return True


def _nul_list(paths: set[str] | list[str]) -> bytes:
    return b"".join(os.fsencode(path) + b"\x00" for path in sorted(paths))


def _prepack(repo: ShadowRepo, head_tree: bytes, stats: dict[str, os.stat_result], update: list[str],
             stop: threading.Event | None) -> None:
    """Write the new blobs and the trees they need into one pack (see the module docstring)."""
    prefix = str(repo.root) + os.sep
    pack = PackWriter(repo.git_dir / "objects" / "pack", known=lambda sha: False)
    try:
        changes: dict[str, Entry | None] = {path: None for path in update if path not in stats}
        for number, (path, st) in enumerate(stats.items()):
            if stop is not None and number % 256 == 0 and stop.is_set():
                raise ScanStopped("the scan was stopped")
            try:
                found = blob_entry(prefix + path, st)
            except OSError:
                continue  # changed meanwhile: update-index sees what is there
            if found is None:
                continue
            entry, data = found
            pack.write(b"blob", data)
            changes[path] = entry
        repo.odb.apply(head_tree, changes, sink=pack)
    except BaseException:
        pack.abort()
        raise

    def index(path: Path) -> None:
        repo.git.run("index-pack", str(path))

    pack.finish(index)
    repo.odb.refresh()
