"""The crash journal of a multi-file write (``write_transaction``): what a kill -9 mid-write leaves, and its repair.

While a transaction runs, a small JSON record in agentls' data directory (``applying/``) names the workspace, the
files it writes, the token its temporary files are named with, its phase ("prepare": nothing renamed yet;
"commit": renames under way) and, for a checkpoint restore, the checkpoint restored and the safety checkpoint
that holds the state before. ``recover`` (at the next start: the headless run, the language server's
``initialized``) removes the temporary files and returns one line naming the files the interrupted write touched.
A record whose process is still alive (another agentls writing the same workspace) is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import stat
from typing import Any

from agentls.atomic import TEMP_SUFFIX, replace_atomically
from agentls.paths import data_dir

#: How a directory is opened on a write's path: a symlink (or a file) swapped in for it is refused, not followed.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def temp_name(token: str, index: int) -> str:
    """The temporary file of a transaction's ``index``-th write: short, whatever the length of the target's name."""
    return f".agentls-{token}-{index:x}{TEMP_SUFFIX}"


def new_token() -> str:
    return secrets.token_hex(6)


def _prefix(root: str) -> str:
    return hashlib.sha256(root.encode()).hexdigest()[:16]


class Journal:
    """The record of one transaction in the data directory."""

    def __init__(self, root: str, token: str, files: list[str], restoring: str | None, safety: str | None) -> None:
        self.path = data_dir() / "applying" / f"{_prefix(root)}-{token}.json"
        self.record: dict[str, Any] = {"root": root, "pid": os.getpid(), "token": token, "files": files,
                                       "phase": "prepare", "restoring": restoring, "safety": safety}

    def phase(self, phase: str) -> None:
        self.record["phase"] = phase
        self.path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(self.path, json.dumps(self.record).encode(), 0o600)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


def recover(root: str) -> str | None:
    """After a crash mid-write: remove its temporary files; one line naming the files it touched, or None."""
    folder = data_dir() / "applying"
    try:
        journals = sorted(folder.glob(f"{_prefix(root)}*.json"))
    except OSError:
        return None
    lines = []
    for journal in journals:
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or record.get("root", root) != root or _alive(record.get("pid")):
            continue
        files = [f for f in record.get("files", []) if isinstance(f, str)]
        token = record.get("token")
        if isinstance(token, str) and token.isalnum():
            for index, rel in enumerate(files):
                _remove_temp(root, rel, temp_name(token, index))
        for rel in record.get("temps", []):  # the journal of an older agentls: temporary files by path
            if isinstance(rel, str) and rel.endswith(TEMP_SUFFIX):
                _remove_temp(root, rel, rel.rpartition("/")[2])
        journal.unlink(missing_ok=True)
        if record.get("phase") != "prepare" and files:
            lines.append(_message(record, files))
    return "; ".join(lines) or None


def _message(record: dict[str, Any], files: list[str]) -> str:
    names = f"{', '.join(files[:5])}{' …' if len(files) > 5 else ''}"
    restoring, safety = record.get("restoring"), record.get("safety")
    if isinstance(restoring, str) and isinstance(safety, str):
        return (f"an earlier restore of checkpoint {restoring} was interrupted while it was written (the process "
                f"stopped): {names} may hold the old or the restored content; checkpoint {safety} holds the state "
                f"before it (agentls checkpoints restore {safety})")
    return ("an earlier change was interrupted while it was written (the process stopped): "
            f"{names} may hold the old or the new text; "
            "the checkpoint taken before it can restore them (agentls checkpoints list)")


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _remove_temp(root: str, rel: str, name: str) -> None:
    """Remove ``name`` (a file or symlink) from each directory on ``rel``'s path that exists, never following a
    symlink (a temporary file lies in the deepest directory that existed when the write was prepared)."""
    parts = [p for p in rel.split("/")[:-1] if p]
    if ".." in parts or not name.endswith(TEMP_SUFFIX) or "/" in name:
        return
    try:
        fd = os.open(root, DIR_FLAGS)
    except OSError:
        return
    try:
        for part in [None, *parts]:
            if part is not None:
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    return
                os.close(fd)
                fd = child
            with contextlib.suppress(OSError):
                if not stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)
