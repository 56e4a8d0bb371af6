"""Workspace paths as checkpoints see them: which file a caller means, and which are off limits.

Plain functions of the workspace's real root (and, for its ignore rules, the shadow repository's
git), shared by taking, comparing and restoring checkpoints: a caller's path made workspace-relative,
and the paths that are never captured nor restored (inside ``.git`` or a nested repository, below a
symlink, ignored by the workspace's ignore rules).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path

from agentls.checkpoints.scan import is_nested_repo
from agentls.checkpoints.shadow import ShadowRepo
from agentls.errors import CheckpointError


def relative(root: Path, path: str) -> str | None:
    """The workspace-relative posix path of ``path`` (symlinks followed), None outside the root."""
    raw = os.fspath(path)
    full = raw if os.path.isabs(raw) else os.path.join(root, raw)
    real = Path(os.path.realpath(full))
    if real == root or not real.is_relative_to(root):
        return None
    return real.relative_to(root).as_posix()


def prefixes(root: Path, paths: Sequence[str] | None) -> list[str] | None:
    """The workspace-relative prefixes ``paths`` name (the last component not followed), sorted;
    None for the whole workspace. Raises ``CheckpointError`` for a path outside it."""
    if paths is None:
        return None
    found = []
    for path in paths:
        raw = os.fspath(path)
        full = Path(os.path.normpath(raw if os.path.isabs(raw) else os.path.join(root, raw)))
        if not full.is_relative_to(root):  # an absolute path spelled through a symlink?
            full = Path(os.path.realpath(full.parent)) / full.name
        if full == root:
            return None
        if not full.is_relative_to(root):
            raise CheckpointError(f"{path} is outside the workspace {root}")
        found.append(full.relative_to(root).as_posix())
    return sorted(set(found)) or None


def excluded(root: Path, rel: str, replaced: Collection[str] = ()) -> bool:
    """Inside a ``.git`` directory or a nested repository, or below a symlink (unless the symlink
    is in ``replaced``: a restore deletes it first): never captured, never restored."""
    parts = rel.split("/")
    if ".git" in parts:
        return True
    for depth in range(1, len(parts)):
        directory = root.joinpath(*parts[:depth])
        if directory.is_symlink():
            if "/".join(parts[:depth]) not in replaced:
                return True
        elif is_nested_repo(directory):
            return True
    return False


def below_symlink(root: Path, rel: str) -> bool:
    parts = rel.split("/")
    return any(root.joinpath(*parts[:depth]).is_symlink() for depth in range(1, len(parts)))


def ignored(repo: ShadowRepo, rels: Sequence[str]) -> set[str]:
    """Those of ``rels`` the workspace's ignore rules ignore (``git check-ignore``)."""
    if not rels:
        return set()
    out = repo.git.run("check-ignore", "-z", "--stdin", "--no-index", ok=(0, 1),
                       input=b"".join(os.fsencode(rel) + b"\x00" for rel in rels))
    return {os.fsdecode(raw) for raw in out.split(b"\x00") if raw}
