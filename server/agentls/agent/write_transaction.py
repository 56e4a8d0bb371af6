"""Writing several files all or nothing, without following a symlink swapped in meanwhile.

Every file is prepared first: its directory is opened component by component from the workspace root with
``O_NOFOLLOW`` (a directory replaced by a symlink, or by a file, is refused, never followed out of the
workspace), and the new text is written to a temporary file with a short name (``.agentls-<hex>.agentls-tmp``,
whatever the length of the target's name) in that directory, fsynced. Only then are the temporary files renamed
over their targets (``renameat`` relative to the opened directory) and the deletions done. If anything fails,
the files already renamed get their old text back, the new files are removed, the temporary files are deleted,
and one ``WriteFailed`` names the file and the cause.

A crash between the renames leaves some files new and some old: the checkpoint taken before (the callers take
one) holds the old state. A journal in agentls' data directory lists the change's files and temporary files
while it is applied; ``recover`` (at the next start) removes the temporary files and says which files the
interrupted change touched.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentls.atomic import TEMP_SUFFIX, replace_atomically, umask, write_fsynced
from agentls.errors import AgentlsError
from agentls.paths import data_dir

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class WriteFailed(AgentlsError):
    """A change could not be written; nothing of it was left on disk (or what could not be undone is named)."""


@dataclass(frozen=True)
class FileWrite:
    """``rel`` (a real path relative to the root, no symlink in it) goes from ``before`` to ``after``;
    ``None`` is an absent file."""

    rel: str
    before: str | None
    after: str | None


@dataclass
class _Prepared:
    write: FileWrite
    dir_fd: int
    name: str
    temp: str | None = None
    done: bool = False
    created_dirs: list[tuple[int, str]] = field(default_factory=list)


def temp_name() -> str:
    return f".agentls-{secrets.token_hex(6)}{TEMP_SUFFIX}"


def write_all(root: str, writes: Sequence[FileWrite]) -> None:
    """Apply every write or none of them (see the module docstring)."""
    prepared: list[_Prepared] = []
    journal = _journal_path(root)
    try:
        for write in writes:
            prepared.append(_prepare(root, write))
        if len(prepared) > 1:  # one rename is atomic by itself: nothing to recover
            _write_journal(journal, root, prepared)
        for item in prepared:
            _commit(item)
        for fd in {item.dir_fd for item in prepared}:
            with contextlib.suppress(OSError):
                os.fsync(fd)
    except OSError as exc:
        failed = writes[len(prepared)] if len(prepared) < len(writes) else next(
            (item.write for item in prepared if not item.done), writes[-1])
        left = _roll_back(prepared)
        if not left:
            journal.unlink(missing_ok=True)
        cause = exc.strerror or str(exc)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            cause = "a directory on its path was replaced by a symlink or a file"
        undone = "nothing was changed" if not left else "could not restore " + ", ".join(left)
        raise WriteFailed(f"could not write {failed.rel}: {cause}; {undone}") from exc
    else:
        journal.unlink(missing_ok=True)
    finally:
        for item in prepared:
            for parent_fd, _ in item.created_dirs:
                os.close(parent_fd)
        for fd in {item.dir_fd for item in prepared}:
            os.close(fd)


def _open_dir(root: str, rel_dir: str, create: bool, created: list[tuple[int, str]]) -> int:
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in [p for p in rel_dir.split("/") if p]:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o777, dir_fd=fd)
                created.append((os.dup(fd), part))
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _prepare(root: str, write: FileWrite) -> _Prepared:
    rel_dir, _, name = write.rel.rpartition("/")
    created: list[tuple[int, str]] = []
    dir_fd = _open_dir(root, rel_dir, write.after is not None, created)
    item = _Prepared(write, dir_fd, name, created_dirs=created)
    try:
        if write.after is not None:
            item.temp = _write_temp(dir_fd, name, write.after.encode("utf-8", "surrogatepass"))
    except BaseException:
        _undo_dirs(item)
        os.close(dir_fd)
        raise
    return item


def _write_temp(dir_fd: int, name: str, data: bytes) -> str:
    try:
        existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        mode = 0o666 & ~umask()
    else:
        if stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(21, "it is a directory")
        mode = stat.S_IMODE(existing.st_mode)
    temp = temp_name()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
    try:
        write_fsynced(fd, data, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    return temp


def _commit(item: _Prepared) -> None:
    if item.temp is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(item.name, dir_fd=item.dir_fd)
    else:
        os.replace(item.temp, item.name, src_dir_fd=item.dir_fd, dst_dir_fd=item.dir_fd)
        item.temp = None
    item.done = True


def _roll_back(prepared: list[_Prepared]) -> list[str]:
    """Undo what was done, newest first; the paths that could not be restored."""
    left = []
    for item in reversed(prepared):
        if item.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(item.temp, dir_fd=item.dir_fd)
        if item.done:
            try:
                if item.write.before is None:
                    os.unlink(item.name, dir_fd=item.dir_fd)
                else:
                    temp = _write_temp(item.dir_fd, item.name, item.write.before.encode("utf-8", "surrogatepass"))
                    os.replace(temp, item.name, src_dir_fd=item.dir_fd, dst_dir_fd=item.dir_fd)
            except OSError:
                left.append(item.write.rel)
        _undo_dirs(item)
    return left


def _undo_dirs(item: _Prepared) -> None:
    """Remove the directories made for this file (if still empty), deepest first."""
    for parent_fd, name in reversed(item.created_dirs):
        with contextlib.suppress(OSError):
            os.rmdir(name, dir_fd=parent_fd)
        os.close(parent_fd)
    item.created_dirs.clear()


# -- the journal of a change being applied -------------------------------------------------------------------

def _journal_path(root: str) -> Path:
    return data_dir() / "applying" / f"{hashlib.sha256(root.encode()).hexdigest()[:16]}.json"


def _write_journal(journal: Path, root: str, prepared: list[_Prepared]) -> None:
    temps = [f"{item.write.rel.rpartition('/')[0]}/{item.temp}".lstrip("/") for item in prepared if item.temp]
    record = {"root": root, "files": [item.write.rel for item in prepared], "temps": temps}
    journal.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(journal, json.dumps(record).encode(), 0o600)


def recover(root: str) -> str | None:
    """After a crash mid-apply: remove its temporary files; one line naming the files it touched, or None."""
    journal = _journal_path(root)
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for rel in record.get("temps", []):
        if isinstance(rel, str) and rel.endswith(TEMP_SUFFIX) and ".." not in rel.split("/"):
            path = Path(root, rel)
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    path.unlink()
    journal.unlink(missing_ok=True)
    files = [f for f in record.get("files", []) if isinstance(f, str)]
    return ("an earlier change was interrupted while it was written (the process stopped): "
            f"{', '.join(files[:5])}{' …' if len(files) > 5 else ''} may hold the old or the new text; "
            "the checkpoint taken before it can restore them (agentls checkpoints list)")
