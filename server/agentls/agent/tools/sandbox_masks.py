"""What the sandbox hides in the workspace: every deny-listed file and directory wherever it is (inside
gitignored directories too, in trees of any size), and the ``.git`` directories it binds read-only.

The tree is listed by ripgrep (``rg --files --hidden --no-ignore``, with ``-g`` globs built from the
deny patterns: rg's globs follow gitignore semantics, as the deny-list does) and ``find`` (the ``.git``
entries); without them, by a walk of every directory in Python (slower: nothing is pruned but the
directories that are masked whole). Every listed path is checked again with ``Workspace.is_denied``.
A denied directory is masked once (its topmost denied ancestor), not file by file; ``command_sandbox``
hands the masks to bwrap through a memfd (``--args``), so their number is not bounded by ``ARG_MAX``.
Blocking: call it off the event loop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from agentls.agent.workspace import Workspace

#: Seconds ripgrep and find may take to list the workspace before the Python walk is used instead.
LIST_TIMEOUT_S = 60


@dataclass
class Masks:
    git_dirs: list[Path] = field(default_factory=list)  # bound read-only (a gitfile ``.git`` too)
    files: list[Path] = field(default_factory=list)  # hidden: /dev/null bound over them
    dirs: list[Path] = field(default_factory=list)  # hidden: an empty tmpfs over them
    #: Not denied, but every entry in them is: an empty read-only tmpfs (one mount for all their files).
    emptied: list[Path] = field(default_factory=list)

    def count(self) -> int:
        return len(self.git_dirs) + len(self.files) + len(self.dirs) + len(self.emptied)


def compact(masks: Masks, root: Path) -> Masks:
    """The same masks with each directory whose every entry is masked (a folder of thousands of
    ``*.secret`` files) hidden once, read-only so that a write there fails rather than vanishes."""
    hidden = {*masks.files, *masks.dirs}
    by_parent: dict[Path, set[Path]] = {}
    for path in hidden:
        by_parent.setdefault(path.parent, set()).add(path)
    emptied: set[Path] = set()
    depth = max((len(path.parts) for path in by_parent), default=0)
    while depth > len(root.parts):  # deepest first: an emptied directory may empty its parent
        for parent in [path for path in by_parent if len(path.parts) == depth]:
            if parent.name == ".git" or not parent.is_relative_to(root):
                continue
            try:
                entries = {parent / name for name in os.listdir(parent)}
            except OSError:
                continue
            if entries and entries <= by_parent[parent]:
                emptied.add(parent)
                by_parent.setdefault(parent.parent, set()).add(parent)
        depth -= 1
    if not emptied:
        return masks
    covered = {path for path in emptied if path.parent not in emptied}

    def kept(paths: list[Path]) -> list[Path]:
        return [path for path in paths if covered.isdisjoint(path.parents)]

    return Masks(kept(masks.git_dirs), kept(masks.files), kept(masks.dirs), sorted(covered))


def rg_globs(patterns: tuple[str, ...] | list[str]) -> list[str]:
    """``-g`` globs listing every file a deny pattern covers: the pattern itself and, as it may name a
    directory, everything under it; ``.git`` directories give their top-level files only (enough to find
    them, without walking their objects)."""
    globs: list[str] = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if not body.strip() or body.startswith("#"):
            continue
        base = body.rstrip("/")
        under = (base if "/" in base else "**/" + base) + "/**"
        sign = "!" if negated else ""
        globs += [sign + body, sign + under]
    return [*globs, "!**/.git/*/"]  # last: it wins over the globs above


def workspace_masks(workspace: Workspace) -> Masks:
    """The masks for ``workspace``: ripgrep lists the denied files, ``find`` the ``.git`` entries (an empty
    ``.git/hooks`` has no file for rg to list), both at once; the Python walk when either is missing."""
    rg, find = shutil.which("rg"), shutil.which("find")
    if rg is None or find is None:
        return _walk(workspace)
    rg_args = [rg, "--files", "--hidden", "--no-ignore", "--no-config", "--no-messages", "--null"]
    for glob in rg_globs(workspace.deny_patterns):
        rg_args += ["-g", glob]
    find_args = [find, ".", "-name", ".git", "-prune", "-print0"]
    listed = _list_all([([*rg_args, "."], (0, 1)), (find_args, (0,))], workspace.root)
    if listed is None:
        return _walk(workspace)
    return _masks_from_paths(workspace, listed)


def _list_all(commands: list[tuple[list[str], tuple[int, ...]]], cwd: Path) -> list[str] | None:
    """The NUL-separated relative paths the commands print, run side by side; None if one failed (an
    exit code not in its tuple: rg's 1 is "nothing listed"; an unreadable directory or a glob rg rejects
    is a failure, and the Python walk then decides)."""
    try:
        procs = [(subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL), codes) for args, codes in commands]  # fmt: skip
    except OSError:
        return None
    listed: list[str] = []
    failed = False
    for proc, codes in procs:
        try:
            out, _ = proc.communicate(timeout=LIST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failed = True
            continue
        failed = failed or proc.returncode not in codes
        listed += [name.removeprefix("./") for name in os.fsdecode(out).split("\0") if name not in ("", ".")]
    return None if failed else listed


def _masks_from_paths(workspace: Workspace, rels: list[str]) -> Masks:
    """Each path's topmost denied directory, else the path itself if it is ``.git`` or denied."""
    masks = Masks()
    root = workspace.root
    seen: set[str] = set()
    for rel in sorted(set(rels)):
        parts = rel.split("/")
        top = _topmost_denied_dir(workspace, parts)
        target = top or rel
        if target in seen or (top is None and parts[-1] != ".git" and not workspace.is_denied(rel)):
            continue
        seen.add(target)
        path = root / target
        if path.is_symlink():
            continue
        if path.name == ".git":
            masks.git_dirs.append(path)  # a directory or a worktree's or submodule's gitfile
        else:
            (masks.files if top is None else masks.dirs).append(path)
    return masks


def _topmost_denied_dir(workspace: Workspace, parts: list[str]) -> str | None:
    for depth in range(1, len(parts)):
        rel = "/".join(parts[:depth])
        if workspace.is_denied(rel, is_dir=True):
            return rel
    return None


def _walk(workspace: Workspace) -> Masks:
    """Every directory but those masked whole; symlinks are neither followed nor masked."""
    masks = Masks()
    root = workspace.root
    for current, subdirs, names in os.walk(root):
        base = Path(current)
        rel_base = workspace.relative(base)
        prefix = "" if rel_base == "." else rel_base + "/"
        keep = []
        for name in subdirs:
            path = base / name
            if path.is_symlink():
                continue
            if name == ".git":
                masks.git_dirs.append(path)
            elif workspace.is_denied(prefix + name, is_dir=True):
                masks.dirs.append(path)
            else:
                keep.append(name)
        subdirs[:] = keep
        for name in names:
            path = base / name
            if workspace.is_denied(prefix + name) and not path.is_symlink():
                (masks.git_dirs if name == ".git" else masks.files).append(path)  # a gitfile ``.git``
    for found in (masks.git_dirs, masks.files, masks.dirs):
        found.sort()
    return masks
