"""Editor buffers in checkpoints: the text an open document has (unsaved typing included), not the disk.

A front end that owns open buffers (the language server) passes their text (``buffers``, by
workspace-relative path) when it takes a checkpoint, compares one or restores one. In the checkpoint's
tree such a path holds the buffer's text, with the file's mode on disk (a regular file when absent).
An accept's checkpoint may also record the text the path has right after the accept (``applied``):
kept in a commit of its own under ``refs/agentls/applied/<key>`` (so gc keeps its blobs, and retention
drops it with the checkpoint). A restore of an open document then undoes exactly the accepted
changes since the checkpoint (``model.BufferRestore``) and keeps what the user typed.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import agentls.checkpoints.paths as wspaths
from agentls.checkpoints.model import BufferRestore
from agentls.checkpoints.objects import EMPTY_TREE, MODE_FILE, MODE_TREE, Entry, object_id
from agentls.checkpoints.scan import mode_of
from agentls.checkpoints.shadow import APPLIED_REFS, ShadowRepo
from agentls.errors import CheckpointError

if TYPE_CHECKING:
    from agentls.checkpoints.history import History

log = logging.getLogger(__name__)


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def normalise(root: Path, texts: Mapping[str, str] | None) -> dict[str, str]:
    """``texts`` by workspace-relative path, without paths outside the workspace or excluded."""
    found: dict[str, str] = {}
    for path, text in (texts or {}).items():
        rel = wspaths.relative(root, path)
        if rel is not None and not wspaths.excluded(root, rel):
            found[rel] = text
    return found


def entry_for(repo: ShadowRepo, rel: str, data: bytes, write: bool = True) -> Entry:
    """The blob entry for ``data`` at ``rel`` (the mode of the file on disk, a regular file when absent or
    not a file); the blob is written to the shadow repository unless it is there."""
    mode = MODE_FILE
    try:
        st = os.lstat(repo.root / rel)
        if stat.S_ISREG(st.st_mode):
            mode = mode_of(st) or MODE_FILE
    except (FileNotFoundError, NotADirectoryError):
        pass
    sha = object_id(b"blob", data)
    if write and not repo.odb.has(sha):
        repo.odb.write(b"blob", data)
    return Entry(mode, sha)


def buffer_entry(repo: ShadowRepo, rel: str, text: str) -> Entry | None:
    """``entry_for`` a buffer's text; None (absent) for an empty buffer of a file that does not exist (a file
    an accept is about to create)."""
    if not text and not os.path.lexists(repo.root / rel):
        return None
    return entry_for(repo, rel, encode(text))


def overlay(repo: ShadowRepo, tree: bytes, buffers: Mapping[str, str], max_file_bytes: int
            ) -> tuple[bytes, list[str]]:
    """``tree`` with the buffers' texts in place of their files (ignored and oversized paths left out), and
    the paths put in."""
    rels = list(buffers)
    ignored = wspaths.ignored(repo, rels) if rels else set()
    changes: dict[str, Entry | None] = {}
    for rel in rels:
        if rel not in ignored and len(encode(buffers[rel])) <= max_file_bytes:
            changes[rel] = buffer_entry(repo, rel, buffers[rel])
    return (repo.odb.apply(tree, changes) if changes else tree), list(changes)


def record_applied(repo: ShadowRepo, key: str, applied: Mapping[str, str], when: float) -> None:
    """Keep the texts right after an accept with the checkpoint ``key`` (hold the commit lock): a tree of
    only those paths (a lookup of any other path finds nothing)."""
    changes: dict[str, Entry | None] = {rel: entry_for(repo, rel, encode(text)) for rel, text in applied.items()}
    commit = repo.odb.write_commit(repo.odb.apply(EMPTY_TREE, changes), f"applied: {', '.join(applied)}\n", when)
    repo.write_ref(f"{APPLIED_REFS}/{key}", commit)


def applied_text(repo: ShadowRepo, key: str, rel: str) -> str | None:
    """The text ``rel`` had right after the accept checkpointed as ``key``; None when not recorded."""
    try:
        commit = repo.read_ref(f"{APPLIED_REFS}/{key}")
        if commit is None or not repo.odb.has(commit):
            return None
        tree, _ = repo.odb.commit(commit)
        entry = repo.odb.lookup(tree, rel)
        return decode(repo.odb.read(entry.sha)[1]) if entry is not None and repo.odb.has(entry.sha) else None
    except CheckpointError as exc:  # damaged: restore as if that accept had not been recorded
        log.warning("checkpoint %s: the text after its accept is unreadable (%s)", key, exc)
        return None


def text_at(repo: ShadowRepo, tree: bytes, rel: str) -> str | None:
    entry = repo.odb.lookup(tree, rel)
    return decode(repo.odb.read(entry.sha)[1]) if entry is not None and entry.mode != MODE_TREE else None


def restore_of(repo: ShadowRepo, history: History, key: str, rel: str, tree: bytes) -> BufferRestore:
    """How to restore the open document ``rel`` to checkpoint ``key`` (``tree``: a tree that holds ``rel``
    as of that checkpoint): its text then, and every accept of it since, with the texts around it."""
    steps: list[tuple[str | None, str]] = []
    for later in (k for k in repo.ids() if k >= key):
        after = applied_text(repo, later, rel)
        if after is not None:
            steps.append((text_at(repo, history.read(later)[1], rel), after))
    return BufferRestore(rel, text_at(repo, tree, rel), steps, rel in history.read(key)[0].buffers)
