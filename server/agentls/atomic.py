"""Atomic file replacement, shared by the agent's writes and checkpoint restores (a leaf module).

A file is written to a temporary file in its own directory, fsynced, given its mode, renamed over
the target with ``os.replace`` and the directory fsynced: a crash leaves the old file or the new
one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from functools import cache
from pathlib import Path

#: Every temporary file agentls writes ends so (short: a target's name may be near the 255-byte limit).
TEMP_SUFFIX = ".agentls-tmp"


@cache
def umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read it the racy way, once
    os.umask(mask)
    return mask


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_fsynced(fd: int, data: bytes, mode: int) -> None:
    """Write ``data`` to the new file open at ``fd`` (closed after), flush it to disk, give it ``mode``."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        os.fchmod(handle.fileno(), mode)


def replace_atomically(target: Path, data: bytes, mode: int) -> None:
    """Replace ``target`` with ``data`` (permission bits ``mode``); the directory must exist."""
    parent = target.parent
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".agentls-", suffix=TEMP_SUFFIX)
    try:
        write_fsynced(fd, data, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(parent)
