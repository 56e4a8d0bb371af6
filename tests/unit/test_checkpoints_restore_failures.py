"""A restore that cannot be written leaves the workspace as it was, says so in one line naming the safety
checkpoint; a restore killed midway is repaired and reported at the next start."""

# Fixtures come from the support module; using them as parameters shadows the imported names.
# ruff: noqa: F811

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import agentls.checkpoints.restore as restore_module
from agentls.checkpoints import Checkpoints
from agentls.errors import CheckpointError
from agentls.write_transaction import recover
from tests.unit.test_checkpoints_support import (  # noqa: F401  (fixtures)
    complete,
    cps,
    data_dir,
    store,
    tree_state,
    workspace,
    write,
)
from tests.unit.test_write_transaction import KILL_AFTER_FIRST_RENAME

LONG = "n" * 250 + ".py"  # 253 bytes: a temporary name built from it would not fit


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".agentls-tmp")]


@pytest.fixture
def edited(cps: Checkpoints, workspace: Path) -> tuple[str, dict[str, tuple[str, int]]]:
    """A checkpoint, then edits of every kind since: modified, created (in a new directory), deleted, a mode."""
    write(workspace, "run.sh", "echo 1\n", 0o755)
    write(workspace, LONG, "long = 1\n")
    complete(cps)
    checkpoint = cps.checkpoint(None, trigger="manual")
    write(workspace, "a.txt", "edited\n")
    write(workspace, "src/main.py", "edited\n")
    write(workspace, LONG, "long = 2\n")
    write(workspace, "new/deep/file.py", "created\n")
    (workspace / "docs/readme.md").unlink()
    (workspace / "run.sh").chmod(0o644)
    return checkpoint.id, tree_state(workspace)


def _failing_restore(cps: Checkpoints, cid: str) -> str:
    with pytest.raises(CheckpointError) as caught:
        cps.restore(cid)
    message = str(caught.value)
    assert "\n" not in message
    safety = [c for c in cps.list() if c.trigger == "restore"]
    assert len(safety) == 1
    assert f"the state before the restore is checkpoint {safety[0].id}" in message
    assert f"could not restore checkpoint {cid}" in message
    return message


def _meanwhile(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Run ``change`` after the restore was planned (and its safety checkpoint taken), just before it writes."""
    real = restore_module.write_all

    def write_all(*args: object, **kwargs: object) -> None:
        change()
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(restore_module, "write_all", write_all)


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """``directory`` made read-only: its mode, or for root (who writes anyway) the immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root without chattr +i: no directory is read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_a_read_only_directory_fails_the_whole_restore(cps: Checkpoints, workspace: Path,
                                                       edited: tuple[str, dict[str, tuple[str, int]]]) -> None:
    cid, before = edited
    with _read_only(workspace / "src"):
        message = _failing_restore(cps, cid)
    assert re.search(r"could not write src/main\.py: (Permission denied|Operation not permitted); "
                     "nothing was changed", message)
    assert tree_state(workspace) == before
    assert not _temps(workspace)


def test_a_directory_replaced_by_a_file_meanwhile_fails_the_whole_restore(
        cps: Checkpoints, workspace: Path, edited: tuple[str, dict[str, tuple[str, int]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cid, before = edited

    def replace_src() -> None:
        for child in (workspace / "src").iterdir():
            child.unlink()
        (workspace / "src").rmdir()
        (workspace / "src").write_text("a file now\n")

    _meanwhile(monkeypatch, replace_src)
    message = _failing_restore(cps, cid)
    assert "could not write src/main.py: a directory on its path was replaced by a symlink or a file; " \
           "nothing was changed" in message
    after = tree_state(workspace)
    assert (workspace / "src").read_text() == "a file now\n"
    assert {k: v for k, v in after.items() if k != "src"} == {k: v for k, v in before.items() if k[:4] != "src/"}
    assert not _temps(workspace)


def test_a_failure_after_some_files_were_renamed_puts_them_back(
        cps: Checkpoints, workspace: Path, edited: tuple[str, dict[str, tuple[str, int]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure comes late: deletions done, directories made and removed, some files renamed in."""
    cid, before = edited
    real = os.rename
    renamed: list[str] = []

    def rename(src: str, dst: str, **kwargs: object) -> None:
        if "src_dir_fd" in kwargs and len(renamed) == 3:
            renamed.append("failed")  # once: putting the files back renames too
            raise OSError(28, "No space left on device")
        real(src, dst, **kwargs)  # type: ignore[arg-type]
        renamed.append(dst)

    monkeypatch.setattr(os, "rename", rename)
    message = _failing_restore(cps, cid)
    monkeypatch.undo()
    assert "No space left on device; nothing was changed" in message
    assert tree_state(workspace) == before
    assert (workspace / "new/deep").is_dir()
    assert not _temps(workspace)


def test_a_name_near_the_limit_is_restored(cps: Checkpoints, workspace: Path,
                                           edited: tuple[str, dict[str, tuple[str, int]]]) -> None:
    cid, _ = edited
    result = cps.restore(cid)
    assert LONG in result.restored
    assert (workspace / LONG).read_text() == "long = 1\n"
    assert (workspace / "run.sh").stat().st_mode & 0o777 == 0o755
    assert not (workspace / "new").exists()
    assert (workspace / "docs/readme.md").read_text() == "# readme\n"
    assert not _temps(workspace)


CRASH = """
import sys
from pathlib import Path
from agentls.checkpoints import Checkpoints
from agentls.paths import data_dir
from agentls.store.db import Store
cps = Checkpoints(Path(sys.argv[1]), data_dir=data_dir(), store=Store(data_dir() / "agentls.db"))
""" + KILL_AFTER_FIRST_RENAME + """
cps.restore(sys.argv[2])
"""


def test_a_restore_killed_midway_is_repaired_and_reported_at_the_next_start(
        cps: Checkpoints, workspace: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLS_DATA_DIR", str(data_dir))
    checkpoint = cps.checkpoint(["a.txt", "src/main.py", "src/util.py"], trigger="edit")
    for rel in ("a.txt", "src/main.py", "src/util.py"):
        write(workspace, rel, "edited\n")
    edited = tree_state(workspace)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    done = subprocess.run([sys.executable, "-c", CRASH, str(workspace), checkpoint.id], env=env, check=False)
    assert done.returncode == -signal.SIGKILL
    assert _temps(workspace)  # the files not yet renamed
    safety = next(c for c in cps.list() if c.trigger == "restore")
    message = recover(str(workspace))
    assert message is not None
    assert f"an earlier restore of checkpoint {checkpoint.id} was interrupted" in message
    assert "a.txt, src/main.py, src/util.py" in message
    assert f"checkpoint {safety.id} holds the state before it" in message
    assert not _temps(workspace)
    assert recover(str(workspace)) is None  # reported once
    cps.restore(safety.id)  # the state before is one restore away
    assert tree_state(workspace) == edited
