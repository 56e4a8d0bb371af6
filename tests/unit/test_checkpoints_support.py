"""Helpers shared by the checkpoint tests (no tests here): workspaces, git, snapshots of a tree."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentls.checkpoints import Checkpoints
from agentls.store.db import Store


def git(root: Path, *args: str) -> str:
    """``git`` in the user's repository as a user would run it (but never refreshing the index)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com", GIT_COMMITTER_NAME="Dev",
               GIT_COMMITTER_EMAIL="dev@example.com")
    return subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=root, capture_output=True,
                          text=True, check=True, env=env).stdout


def write(root: Path, rel: str, text: str | bytes, mode: int | None = None) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def tree_state(root: Path, *, skip_git: bool = True) -> dict[str, tuple[str, int]]:
    """Every file below ``root``: content hash (or symlink target) and permission bits. ``.git``
    directories are left out unless ``skip_git`` is False."""
    state: dict[str, tuple[str, int]] = {}
    for directory, dirs, files in os.walk(root):
        if skip_git and ".git" in dirs:
            dirs.remove(".git")
        for name in files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[rel] = ("-> " + os.readlink(path), 0)
            else:
                state[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode & 0o777)
    return state


def dot_git_state(directory: Path) -> dict[str, tuple[str, int]]:
    """Every byte of a ``.git`` directory (or file), for "never modified" assertions."""
    if directory.is_file():
        return {".git": (hashlib.sha256(directory.read_bytes()).hexdigest(), 0)}
    return tree_state(directory, skip_git=False)


def user_repo_state(root: Path) -> dict[str, str]:
    """What a user sees of their repository, read with commands that never refresh the index
    (``git diff`` would: a restore rewrites files, so their stat data in the index goes stale)."""
    return {
        "head": git(root, "rev-parse", "HEAD"),
        "branches": git(root, "branch", "-a", "-v"),
        "index": git(root, "ls-files", "--stage"),
        "staged": git(root, "diff", "--cached"),
        "stash": git(root, "stash", "list"),
        "stash0": git(root, "stash", "show", "-p", "stash@{0}") if git(root, "stash", "list") else "",
        "reflog": git(root, "reflog"),
        "status": git(root, "status", "--porcelain=v2", "-uall"),
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write(root, "a.txt", "alpha\n")
    write(root, "src/main.py", "print('hello')\n")
    write(root, "src/util.py", "def util():\n    return 1\n")
    write(root, "docs/readme.md", "# readme\n")
    return root


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    db = Store(data_dir / "agentls.db")
    yield db
    db.close()


@pytest.fixture
def cps(workspace: Path, data_dir: Path, store: Store) -> Iterator[Checkpoints]:
    checkpoints = Checkpoints(workspace, data_dir=data_dir, store=store)
    yield checkpoints
    checkpoints.close()


def complete(checkpoints: Checkpoints) -> None:
    """Run a whole-tree scan now and wait for it: every pending checkpoint is completed."""
    checkpoints.start_baseline()
    assert checkpoints.wait_baseline(30), checkpoints.last_scan_error


def loose_objects(data_dir: Path) -> list[Path]:
    objects = next((data_dir / "checkpoints").glob("*/repo/objects"))
    return [p for p in objects.glob("??/*") if p.is_file()]


def packs(data_dir: Path) -> list[Path]:
    return list(next((data_dir / "checkpoints").glob("*/repo/objects")).glob("pack/*.pack"))
