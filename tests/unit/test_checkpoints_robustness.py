"""Checkpoints under failure: a read-only shadow directory, no git, concurrent checkpoints (threads and
processes), a crash that leaves locks, broken refs or a broken index behind, and garbage collection."""

# Fixtures come from the support module; using them as parameters shadows the imported names.
# ruff: noqa: F811

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentls.checkpoints import CheckpointError, Checkpoints
from agentls.checkpoints.shadow import KEEP_BROKEN
from agentls.store.db import Store
from tests.unit.test_checkpoints_support import (  # noqa: F401  (fixtures)
    complete,
    cps,
    data_dir,
    store,
    tree_state,
    workspace,
    write,
)


def shadow(data_dir: Path) -> Path:
    return next((data_dir / "checkpoints").glob("*/repo"))


def ref(repo: Path, namespace: str, checkpoint_id: str) -> Path:
    """The ref file of a checkpoint (refs are named <time>-<id>)."""
    found = list((repo / "refs/agentls" / namespace).glob(f"*-{checkpoint_id}"))
    return found[0] if found else repo / "refs/agentls" / namespace / f"000000000000-{checkpoint_id}"


def _chattr(flag: str, path: Path) -> bool:
    try:
        return subprocess.run(["chattr", "-R", flag, str(path)], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


@pytest.fixture
def read_only(data_dir: Path) -> Iterator[None]:
    """Make the shadow directory unwritable (chmod; as root, whom chmod does not stop: chattr +i)."""
    target = data_dir / "checkpoints"
    if os.geteuid() == 0:
        if not _chattr("+i", target):
            pytest.skip("running as root and chattr +i is not available here")
        yield
        _chattr("-i", target)
        return
    modes = {}
    for path in [target, *target.rglob("*")]:
        if path.is_dir():
            modes[path] = path.stat().st_mode
            path.chmod(0o555)
    yield
    for path, mode in modes.items():
        path.chmod(mode)


def guarded_write(cps: Checkpoints, root: Path, rel: str, text: str) -> None:
    """What the agent does: checkpoint, and write only if it succeeded."""
    cps.checkpoint([rel], trigger="edit")
    (root / rel).write_text(text)


def test_read_only_shadow_dir_fails_the_edit_with_a_clear_message(workspace: Path, data_dir: Path,
                                                                  request: pytest.FixtureRequest) -> None:
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        cps.checkpoint(["a.txt"], trigger="edit")
    request.getfixturevalue("read_only")
    with Checkpoints(workspace, data_dir=data_dir) as cps, pytest.raises(CheckpointError) as caught:
        guarded_write(cps, workspace, "a.txt", "must not be written\n")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("cannot take a checkpoint: ")
    assert "Permission denied" in message or "Operation not permitted" in message
    assert message.endswith("the agentls data directory is not writable")
    assert str(data_dir) in message
    assert (workspace / "a.txt").read_text() == "alpha\n"


def test_unwritable_data_dir_on_first_use(workspace: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be\n")
    with Checkpoints(workspace, data_dir=blocker / "data") as cps, pytest.raises(CheckpointError,
                                                                                   match="cannot create"):
        cps.checkpoint(["a.txt"], trigger="edit")


def test_git_missing_fails_the_checkpoint(workspace: Path, data_dir: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with Checkpoints(workspace, data_dir=data_dir) as cps, pytest.raises(CheckpointError,
                                                                          match="git is not installed"):
        cps.checkpoint(["a.txt"], trigger="edit")


def test_concurrent_checkpoints_from_threads_and_instances(workspace: Path, data_dir: Path, store: Store) -> None:
    for n in range(20):
        write(workspace, f"many/f{n}.txt", f"{n}\n")
    first = Checkpoints(workspace, data_dir=data_dir, store=store)
    second = Checkpoints(workspace, data_dir=data_dir, store=store)
    try:
        first.start_baseline()

        def take(n: int) -> str:
            instance = first if n % 2 else second
            if n % 5 == 0:
                return instance.checkpoint(None, trigger="command").id
            return instance.checkpoint([f"many/f{n}.txt", "a.txt"], trigger="edit", step=n).id

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(take, range(20)))
        assert len(set(ids)) == 20
        assert sorted(c.id for c in first.list(limit=100)) == sorted(ids)
        assert first.wait_baseline(30)
        for checkpoint_id in ids:
            assert first.plan_restore(checkpoint_id).files == []  # nothing changed since any of them
    finally:
        first.close()
        second.close()


CHILD = """
import sys
from pathlib import Path
from agentls.checkpoints import Checkpoints
root, data, tag = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with Checkpoints(root, data_dir=data) as cps:
    for n in range(5):
        (root / f"{tag}{n}.txt").write_text(f"{tag} before {n}\\n")
        cps.checkpoint([f"{tag}{n}.txt"], trigger="edit", session_id=tag, step=n)
        (root / f"{tag}{n}.txt").write_text(f"{tag} after {n}\\n")
    cps.checkpoint(None, trigger="command", session_id=tag)
"""


def test_concurrent_checkpoints_from_processes(workspace: Path, data_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(workspace), str(data_dir), tag], env=env,
                                 stderr=subprocess.PIPE, text=True) for tag in ("p", "q", "r")]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        listed = cps.list(limit=100)
        assert len(listed) == 18
        assert len({c.id for c in listed}) == 18
        by_session = {tag: [c for c in reversed(listed) if c.session_id == tag and c.trigger == "edit"]
                      for tag in "pqr"}
        for tag, taken in by_session.items():
            assert [c.files for c in taken] == [[f"{tag}{n}.txt"] for n in range(5)]
            plan = cps.plan_restore(taken[2].id, [f"{tag}2.txt"])
            assert plan.files[0].target == f"{tag} before 2\n".encode()


def test_crash_leftovers_are_repaired_and_good_checkpoints_kept(workspace: Path, data_dir: Path,
                                                                store: Store) -> None:
    with Checkpoints(workspace, data_dir=data_dir, store=store) as cps:
        complete(cps)
        good = cps.checkpoint(["a.txt"], trigger="edit")
        damaged = cps.checkpoint(["src/main.py"], trigger="edit")
    repo = shadow(data_dir)
    # What a crash (or a disk problem) may leave behind:
    (repo / "index.lock").write_text("")
    good_ref = ref(repo, "cp", good.id)
    good_ref.with_name(good_ref.name + ".lock").write_text("")
    (repo / "objects/pack/tmp_pack_agentls_dead.pack").write_bytes(b"PACK")
    ref(repo, "cp", damaged.id).write_text("not a sha\n")
    (repo / "refs/agentls/pending/0123456789ab-01234567").write_text("0" * 40 + "\n")
    (repo / "index").write_bytes(b"garbage, not an index")
    write(workspace, "a.txt", "edited\n")
    with Checkpoints(workspace, data_dir=data_dir, store=store) as cps:
        assert [c.id for c in cps.list()] == [good.id]
        assert not (repo / "index.lock").exists()
        assert not list((repo / "objects/pack").glob("tmp_*"))
        assert cps.restore(good.id).restored == ["a.txt"]  # the broken index is rebuilt by the scan
        assert (workspace / "a.txt").read_text() == "alpha\n"
        cps.checkpoint(["a.txt"], trigger="edit")
    assert store.checkpoint_ids(str(workspace.resolve())) == {c.id for c in Checkpoints(
        workspace, data_dir=data_dir).list()}


def test_unusable_shadow_repository_is_recreated(workspace: Path, data_dir: Path) -> None:
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        cps.checkpoint(["a.txt"], trigger="edit")
    repo = shadow(data_dir)
    objects = repo / "objects"
    for path in sorted(objects.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    objects.rmdir()
    objects.write_text("not a directory\n")
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        assert cps.list() == []
        fresh = cps.checkpoint(["a.txt"], trigger="edit")
        write(workspace, "a.txt", "edited\n")
        cps.restore(fresh.id)
    assert (workspace / "a.txt").read_text() == "alpha\n"
    assert list(repo.parent.glob("repo.broken-*"))


def test_old_copies_of_unusable_repositories_are_pruned(workspace: Path, data_dir: Path) -> None:
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        cps.checkpoint(["a.txt"], trigger="edit")
    repo = shadow(data_dir)
    for stamp in (999999999, 1000000001, 1000000000):  # 999999999 sorts last as a string, first as a number
        (repo.parent / f"repo.broken-{stamp}" / "objects").mkdir(parents=True)
    shutil.rmtree(repo / "objects")  # beyond repair: moved aside on the next open
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        assert cps.list() == []
    left = sorted(path.name for path in repo.parent.glob("repo.broken-*"))
    assert len(left) == KEEP_BROKEN == 2
    assert "repo.broken-1000000001" in left  # the newest old copy, and the one just moved aside
    assert not (repo.parent / "repo.broken-999999999").exists()
    assert (repo / "objects").is_dir()


def test_pending_checkpoint_of_a_crashed_process_is_completed_by_the_next(workspace: Path, data_dir: Path) -> None:
    before = tree_state(workspace)
    cps = Checkpoints(workspace, data_dir=data_dir)
    taken = cps.checkpoint(["a.txt"], trigger="edit")  # pending: no scan yet
    cps.close()  # "crash": nothing completed it
    write(workspace, "a.txt", "written after the checkpoint\n")
    repo = shadow(data_dir)
    assert ref(repo, "pending", taken.id).exists()
    with Checkpoints(workspace, data_dir=data_dir) as again:
        again.restore(taken.id)
    assert tree_state(workspace) == before
    assert not ref(repo, "pending", taken.id).exists()


def test_pruned_checkpoints_are_garbage_collected_in_the_background(workspace: Path, data_dir: Path) -> None:
    with Checkpoints(workspace, data_dir=data_dir, retention=2) as cps:
        complete(cps)
        for n in range(4):
            write(workspace, "a.txt", f"version {n}\n")
            cps.checkpoint(["a.txt"], trigger="edit")
        repo = shadow(data_dir)
        deadline = time.monotonic() + 30
        while not list((repo / "objects/pack").glob("pack-*.pack")):  # too few files for a scan's pack
            assert time.monotonic() < deadline, "gc did not run"
            time.sleep(0.05)
        kept = cps.list()
        assert len(kept) == 2
        write(workspace, "a.txt", "later\n")
        cps.restore(kept[-1].id)
        assert (workspace / "a.txt").read_text() == "version 2\n"


def test_close_stops_background_work(workspace: Path, data_dir: Path) -> None:
    cps = Checkpoints(workspace, data_dir=data_dir)
    cps.start_baseline()
    cps.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("agentls-checkpoints:ws")]
