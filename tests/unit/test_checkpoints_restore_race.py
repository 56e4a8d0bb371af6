"""A restore never writes outside the workspace, even while a local process swaps a directory of it for a
symlink to an outside directory (atomically, with ``renameat2(RENAME_EXCHANGE)``) again and again."""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentls.checkpoints.objects import MODE_EXEC, MODE_FILE
from agentls.checkpoints.restore import write_back
from agentls.errors import CheckpointError

Files = list[tuple[str, bytes | None, int | None]]

_libc = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> None:
    if _libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _swapper(real: Path, link: Path, stop: threading.Event, swaps: list[int]) -> None:
    while not stop.is_set():
        _exchange(real, link)  # ``real`` is now the symlink out, ``link`` the directory
        _exchange(real, link)
        swaps[0] += 1


def race(root: Path, outside: Path, writer: Callable[[Path, Files], None], seconds: float,
         limit: int) -> tuple[int, int, int, int]:
    """Restores of files in ``root/d`` while ``d`` is swapped for a symlink to ``outside``: (restores done,
    restores refused, restores that wrote outside, swaps)."""
    stop = threading.Event()
    swaps = [0]
    thread = threading.Thread(target=_swapper, args=(root / "d", root / "d-link", stop, swaps), daemon=True)
    ok = refused = escaped = 0
    deadline = time.monotonic() + seconds
    thread.start()
    try:
        for i in range(limit):
            if time.monotonic() > deadline:
                break
            sub = (f"d/sub/g{i % 7}.txt", b"new %d\n" % i, MODE_FILE) if i % 2 else (f"d/sub/g{(i - 1) % 7}.txt",
                                                                                      None, None)
            try:
                writer(root, [("d/f.txt", b"restored %d\n" % i, MODE_EXEC if i % 3 else MODE_FILE), sub])
                ok += 1
            except (CheckpointError, OSError):
                refused += 1
            leaked = [p for p in outside.rglob("*")]
            if leaked:
                escaped += 1
                for path in sorted(leaked, reverse=True):
                    path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    finally:
        stop.set()
        thread.join()
    return ok, refused, escaped, swaps[0]


@pytest.fixture
def fast_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory in memory where there is one (fsync costs nothing there: thousands of restores fit in
    seconds), with agentls' data directory (the journal) in it."""
    if not os.path.isdir("/dev/shm"):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="agentls-race-"))
    monkeypatch.setenv("AGENTLS_DATA_DIR", str(path / "data"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def raced(fast_tmp: Path) -> tuple[Path, Path]:
    tmp_path = fast_tmp
    root = tmp_path / "ws"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("original\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "d-link")
    try:
        _exchange(root / "d", root / "d-link")
        _exchange(root / "d", root / "d-link")
    except (AttributeError, OSError) as exc:
        pytest.skip(f"no renameat2(RENAME_EXCHANGE) here: {exc}")
    return root, outside


def test_restores_racing_a_directory_swapped_for_a_symlink_never_write_outside(raced: tuple[Path, Path]) -> None:
    root, outside = raced

    def writer(root: Path, files: Files) -> None:
        write_back(root, files, "c0ffee", "5afe7y")

    ok, refused, escaped, swaps = race(root, outside, writer, seconds=9.0, limit=3000)
    assert escaped == 0, f"{escaped} of {ok + refused} restores wrote outside the workspace"
    assert ok + refused >= 1000  # 3,000 unless the machine is very busy (stopped at 9 s)
    assert swaps > 100  # the race did happen, both ways
    assert ok > 100
    assert refused > 0
    assert not [p for p in root.rglob("*") if p.name.endswith(".agentls-tmp")]
    real = root / "d" if not (root / "d").is_symlink() else root / "d-link"
    assert (real / "f.txt").read_bytes().startswith(b"restored")


def test_applied_changes_racing_a_directory_swapped_for_a_symlink_never_write_outside(
        raced: tuple[Path, Path]) -> None:
    """The same race against applying a change (``Workspace.write_all``, what the CLI's apply and an accepted
    multi-file change use): the issue measured 82 of 3,000 raced writes landing outside."""
    from agentls.agent.workspace import Workspace
    from agentls.errors import AgentlsError

    root, outside = raced

    def writer(root: Path, files: Files) -> None:
        workspace = Workspace(root, ())
        try:
            workspace.write_all([(path, None, None if data is None else data.decode()) for path, data, _ in files
                                 if data is not None])
        except AgentlsError as exc:
            raise OSError(str(exc)) from exc

    ok, refused, escaped, _ = race(root, outside, writer, seconds=9.0, limit=3000)
    assert escaped == 0, f"{escaped} of {ok + refused} applied changes wrote outside the workspace"
    assert ok + refused >= 1000
    assert ok > 100
    assert not [p for p in root.rglob("*") if p.name.endswith(".agentls-tmp")]
