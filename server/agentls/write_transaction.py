"""Writing several files all or nothing, without following a symlink swapped in meanwhile.

Used for applying a change and for restoring a checkpoint. Every write is prepared first: the directories on
its path are opened one by one from the workspace root with ``O_NOFOLLOW`` (a directory replaced by a symlink,
or by a file, is refused, never followed out of the workspace), and the new content is written to a temporary
file with a short name (``.agentls-<token>-<n>.agentls-tmp``) in the deepest of them, fsynced, with its mode
(or a symlink made there). Then, deletions first, the changes are made relative to those opened directories:
files unlinked (a restore also removes the directories this leaves empty), missing directories made with
``mkdirat``, an empty directory removed where a file takes its place, the temporary files renamed in with
``renameat``. If anything fails, what was done is undone newest first (old content, mode and symlinks back,
removed directories made again, new ones removed), the temporary files are deleted, and one ``WriteFailed``
names the file and the cause.

A crash between the renames leaves some files new and some old: the checkpoint taken before holds the old
state. The journal (``write_journal``) lists the transaction's files while it runs; ``recover`` at the next
start removes the temporary files and says which files the interrupted write touched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from agentls.atomic import umask, write_fsynced
from agentls.errors import AgentlsError
from agentls.write_journal import DIR_FLAGS, Journal, new_token, recover, temp_name

__all__ = ["ON_DISK", "FileWrite", "WriteFailed", "recover", "write_all"]


class WriteFailed(AgentlsError):
    """A change could not be written; nothing of it was left on disk (or what could not be undone is named)."""


class OnDisk(Enum):
    ON_DISK = "whatever is on disk"


#: A ``FileWrite.before`` that tells the transaction to keep what is on disk (content, mode, symlink,
#: directory) and put it back on failure.
ON_DISK = OnDisk.ON_DISK


@dataclass(frozen=True)
class FileWrite:
    """``rel`` (a plain path relative to the root) goes from ``before`` to ``after``; ``None`` is an absent file.

    ``before`` is what a failure puts back (``ON_DISK``: what is there when the transaction starts).
    ``executable``: None keeps the mode of the file replaced (a new file gets 0o666 less the umask); True or
    False sets or clears its execute bits. ``symlink``: ``after`` is the target of a symlink. ``prune``: a
    deletion also removes the directories it leaves empty."""

    rel: str
    before: str | bytes | OnDisk | None
    after: str | bytes | None
    executable: bool | None = None
    symlink: bool = False
    prune: bool = False


@dataclass
class _Old:
    """What a path held: ``kind`` absent, file, link or dir."""

    kind: str
    data: bytes = b""
    mode: int = 0


@dataclass
class _Item:
    write: FileWrite
    base_rel: str  # the deepest directory on the path that exists (and is kept): the temporary file's
    base_fd: int
    missing: list[str]  # the directories below it to make at commit
    name: str
    old: _Old | None = None  # None: the caller's ``before``
    temp: str | None = None
    skip: bool = False  # nothing to do (a deletion of something absent, or of a directory)
    done: bool = False
    emptied_dir: int | None = None  # the mode of a directory removed for the file to take its place
    made: list[str] = field(default_factory=list)
    pruned: list[tuple[str, int]] = field(default_factory=list)

    @property
    def dir_rel(self) -> str:
        return "/".join(p for p in (self.base_rel, *self.missing) if p)


def _encode(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


class _Dirs:
    """Directories of the workspace opened with ``O_NOFOLLOW`` one component at a time, by relative path."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.fds: dict[str, int] = {}
        self.retired: list[int] = []  # closed only at the end: an item may still name one

    def fd(self, rel: str, made: list[str] | None = None) -> int:
        """The directory ``rel``; with ``made``, missing ones are made (``mkdirat``) and listed there."""
        if rel in self.fds:
            return self.fds[rel]
        if not rel:
            fd = os.open(self.root, DIR_FLAGS)
        else:
            parent_rel, _, name = rel.rpartition("/")
            parent = self.fd(parent_rel, made)
            try:
                fd = os.open(name, DIR_FLAGS, dir_fd=parent)
            except FileNotFoundError:
                if made is None:
                    raise
                os.mkdir(name, 0o777, dir_fd=parent)
                made.append(rel)
                fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        self.fds[rel] = fd
        return fd

    def removed(self, rel: str) -> None:
        for key in [k for k in self.fds if k == rel or k.startswith(rel + "/")]:
            self.retired.append(self.fds.pop(key))

    def close(self, sync: bool) -> None:
        for fd in self.fds.values():
            if sync:
                with contextlib.suppress(OSError):
                    os.fsync(fd)
            os.close(fd)
        for fd in self.retired:
            os.close(fd)


def write_all(root: str, writes: Sequence[FileWrite], *, restoring: str | None = None,
              safety: str | None = None) -> None:
    """Apply every write or none of them (see the module docstring). ``restoring``/``safety``: the checkpoint a
    restore brings back and the one holding the state before it, for the journal's report after a crash."""
    _more_files(len(writes))
    token = new_token()
    dirs = _Dirs(root)
    deleted = {w.rel for w in writes if w.after is None}
    items: list[_Item] = []
    at = writes[0].rel if writes else ""
    journal = None
    if len(writes) > 1 or (writes and restoring is not None):  # one rename is atomic by itself: nothing to recover
        journal = Journal(root, token, [w.rel for w in writes], restoring, safety)
    ok = settled = False
    try:
        if journal is not None:
            journal.phase("prepare")
        for index, write in enumerate(writes):
            at = write.rel
            items.append(_prepare(dirs, write, deleted, temp_name(token, index)))
        if journal is not None:
            journal.phase("commit")
        for item in sorted(items, key=lambda i: i.write.after is not None):  # deletions first
            at = item.write.rel
            _commit(dirs, item)
        ok = True
    except OSError as exc:
        left = _roll_back(dirs, items)
        settled = True
        raise WriteFailed(f"could not write {at}: {_cause(exc)}; "
                          + ("nothing was changed" if not left else "could not restore " + ", ".join(left))) from exc
    finally:
        dirs.close(sync=ok)
        if journal is not None and (ok or settled):  # else (interrupted) ``recover`` removes the temporary files
            journal.close()


def _cause(exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return "a directory on its path was replaced by a symlink or a file"
    if exc.errno == errno.ENOTEMPTY:
        return "it is a directory that is not empty"
    return exc.strerror or str(exc)


def _more_files(count: int) -> None:
    """A restore of thousands of files opens hundreds of directories: raise the soft limit of open files."""
    if count < 64:
        return
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def _prepare(dirs: _Dirs, write: FileWrite, deleted: set[str], temp: str) -> _Item:
    parts = write.rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise OSError(errno.EINVAL, "not a plain path inside the workspace")
    *dir_parts, name = parts
    base_rel, missing = "", list[str]()
    for depth, part in enumerate(dir_parts, 1):
        sub = "/".join(dir_parts[:depth])
        if not missing and sub not in deleted:  # a file or symlink this transaction deletes becomes a directory
            try:
                dirs.fd(sub)
                base_rel = sub
                continue
            except FileNotFoundError:
                pass
        missing.append(part)
    item = _Item(write, base_rel, dirs.fd(base_rel), missing, name)
    st = None if missing else _lstat(item.base_fd, name)
    if write.after is None:
        item.skip = st is None or stat.S_ISDIR(st.st_mode)  # a deletion never removes a directory
    elif st is not None and stat.S_ISDIR(st.st_mode) and not any(d.startswith(write.rel + "/") for d in deleted):
        raise IsADirectoryError(errno.EISDIR, "it is a directory")
    if write.before is ON_DISK:
        item.old = _read(item.base_fd, name, st)
    if write.after is not None:
        _write_temp(item.base_fd, temp, write, st)
        item.temp = temp
    return item


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _read(dir_fd: int, name: str, st: os.stat_result | None) -> _Old:
    if st is None:
        return _Old("absent")
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return _Old("link", os.fsencode(os.readlink(name, dir_fd=dir_fd)))
    if stat.S_ISDIR(st.st_mode):
        return _Old("dir", mode=mode)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "it is a special file")
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        return _Old("file", handle.read(), mode)


def _mode(st: os.stat_result | None, executable: bool | None) -> int:
    """The permission bits of a file written over ``st`` (None: a new file)."""
    if st is None or not stat.S_ISREG(st.st_mode):
        return (0o777 if executable else 0o666) & ~umask()
    current = stat.S_IMODE(st.st_mode)
    if executable is None:
        return current
    return current | ((current & 0o444) >> 2) if executable else current & ~0o111


def _write_temp(dir_fd: int, temp: str, write: FileWrite, st: os.stat_result | None) -> None:
    assert write.after is not None
    if write.symlink:
        os.symlink(os.fsdecode(_encode(write.after)), temp, dir_fd=dir_fd)
        return
    _write_file(dir_fd, temp, _encode(write.after), _mode(st, write.executable))


def _write_file(dir_fd: int, temp: str, data: bytes, mode: int) -> None:
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600,
                 dir_fd=dir_fd)
    try:
        write_fsynced(fd, data, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise


def _commit(dirs: _Dirs, item: _Item) -> None:
    if item.skip:
        return
    if item.write.after is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(item.name, dir_fd=item.base_fd)
        item.done = True
        if item.write.prune:
            _prune(dirs, item)
        return
    assert item.temp is not None
    dir_fd = dirs.fd(item.dir_rel, item.made)
    st = _lstat(dir_fd, item.name)
    if st is not None and stat.S_ISDIR(st.st_mode):  # its files were deleted above: it must be empty now
        os.rmdir(item.name, dir_fd=dir_fd)
        item.emptied_dir = stat.S_IMODE(st.st_mode)
        dirs.removed(_join(item.dir_rel, item.name))
    os.rename(item.temp, item.name, src_dir_fd=item.base_fd, dst_dir_fd=dir_fd)
    item.temp = None
    item.done = True


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _prune(dirs: _Dirs, item: _Item) -> None:
    """Remove the directories a deletion left empty, deepest first, up to (not including) the root."""
    rel = item.base_rel
    while rel:
        parent_rel, _, name = rel.rpartition("/")
        parent = dirs.fd(parent_rel)
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            os.rmdir(name, dir_fd=parent)  # only an empty directory, never a symlink
        except OSError:
            return
        item.pruned.append((rel, stat.S_IMODE(st.st_mode)))
        dirs.removed(rel)
        rel = parent_rel


def _roll_back(dirs: _Dirs, items: list[_Item]) -> list[str]:
    """Undo what was done, newest first; the paths that could not be restored."""
    left = []
    order = sorted(items, key=lambda i: i.write.after is not None)
    for item in reversed(order):
        if item.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(item.temp, dir_fd=item.base_fd)
            item.temp = None
        try:
            if item.done or item.emptied_dir is not None:
                _put_back(dirs, item)
        except OSError:
            left.append(item.write.rel)
        for rel in reversed(item.made):
            parent_rel, _, name = rel.rpartition("/")
            with contextlib.suppress(OSError):
                os.rmdir(name, dir_fd=dirs.fd(parent_rel))
                dirs.removed(rel)
    return left


def _put_back(dirs: _Dirs, item: _Item) -> None:
    """Make ``item``'s path hold what it held before the transaction."""
    dir_fd = dirs.fd(item.dir_rel, [])  # directories a deletion removed are made again
    for rel, mode in item.pruned:
        os.fchmod(dirs.fd(rel), mode)
    old = item.old
    if old is None:
        before = item.write.before
        assert not isinstance(before, OnDisk)
        old = _Old("absent") if before is None else _Old("file", _encode(before), -1)
    if item.emptied_dir is not None:
        old = _Old("dir", mode=item.emptied_dir)
    st = _lstat(dir_fd, item.name)
    if old.kind in ("absent", "dir"):
        if st is not None and not stat.S_ISDIR(st.st_mode):
            os.unlink(item.name, dir_fd=dir_fd)
        if old.kind == "dir" and (st is None or not stat.S_ISDIR(st.st_mode)):
            os.mkdir(item.name, 0o700, dir_fd=dir_fd)
            os.fchmod(dirs.fd(_join(item.dir_rel, item.name)), old.mode)
        return
    temp = temp_name(new_token(), 0)
    if old.kind == "link":
        os.symlink(os.fsdecode(old.data), temp, dir_fd=dir_fd)
    else:
        _write_file(dir_fd, temp, old.data, old.mode if old.mode >= 0 else _mode(st, None))
    try:
        os.rename(temp, item.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
