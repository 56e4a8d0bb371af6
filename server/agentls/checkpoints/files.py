"""Writing and deleting workspace files for a restore: atomic, mode-keeping, never outside the root.

A file is written to a temporary file in its directory, fsynced, given its mode and renamed over
the old one, so a reader sees the old or the new content, never a mix. A symlink is re-created as
a symlink. Directories on the way are created; one that leads outside the workspace (a symlink
swapped in) is refused. Deleting a file removes the directories it leaves empty.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from agentls.atomic import fsync_dir, replace_atomically, umask
from agentls.checkpoints.objects import MODE_EXEC, MODE_LINK
from agentls.errors import CheckpointError


def _inside(root: Path, path: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _checked(root: Path, rel: str) -> Path:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(part in ("", ".", "..", ".git") for part in parts):
        raise CheckpointError(f"refusing to restore {rel!r}: not a plain path inside the workspace")
    return root / rel


def _directory(root: Path, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if not _inside(root, Path(os.path.realpath(directory))):
        raise CheckpointError(f"{directory.relative_to(root)} leads outside the workspace; nothing written there")


def new_mode(path: Path, mode: int) -> int:
    """Permission bits for ``path`` restored with git mode ``mode``: the current bits with the execute
    bits set or cleared (where readable), or 0o666/0o777 less the umask for a new file."""
    executable = mode == MODE_EXEC
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        return (0o777 if executable else 0o666) & ~umask()
    current = stat.S_IMODE(st.st_mode)
    return current | ((current & 0o444) >> 2) if executable else current & ~0o111


def write_file(root: Path, rel: str, data: bytes, mode: int) -> None:
    target = _checked(root, rel)
    parent = target.parent
    _directory(root, parent)
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISDIR(os.lstat(target).st_mode):
            try:
                os.rmdir(target)
            except OSError:
                raise CheckpointError(f"{rel} is a directory that is not empty; it was left as it is") from None
    if mode != MODE_LINK:
        replace_atomically(target, data, new_mode(target, mode))
        return
    tmp = parent / f".agentls-{secrets.token_hex(6)}.agentls-tmp"  # short: the target's name may be long
    os.symlink(os.fsdecode(data), tmp)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(parent)


def delete_file(root: Path, rel: str) -> None:
    """Remove a file or symlink (never a directory), then the directories it leaves empty."""
    target = _checked(root, rel)
    if not _inside(root, Path(os.path.realpath(target.parent))):
        raise CheckpointError(f"{rel}: its directory leads outside the workspace; it was not deleted")
    try:
        if stat.S_ISDIR(os.lstat(target).st_mode):
            return
        os.unlink(target)
    except FileNotFoundError:
        return
    fsync_dir(target.parent)
    directory = target.parent
    while directory != root and _inside(root, directory):
        try:
            os.rmdir(directory)
        except OSError:
            break
        directory = directory.parent
