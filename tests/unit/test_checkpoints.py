"""Checkpoints: what a snapshot captures, the user's repository left alone, nested repositories and
ignored files excluded, the fast path that never scans, the background baseline, retention, listing."""

# Fixtures come from the support module; using them as parameters shadows the imported names.
# ruff: noqa: F811

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from agentls.checkpoints import Checkpoint, CheckpointError, Checkpoints
from agentls.store.db import Store
from tests.unit.test_checkpoints_support import (  # noqa: F401  (fixtures)
    complete,
    cps,
    data_dir,
    dot_git_state,
    git,
    loose_objects,
    packs,
    store,
    tree_state,
    user_repo_state,
    workspace,
    write,
)


def test_non_git_workspace_checkpoint_and_restore(cps: Checkpoints, workspace: Path) -> None:
    before = tree_state(workspace)
    first = cps.checkpoint(["a.txt", "src/new.py"], trigger="edit", session_id="s1", step=1)
    assert isinstance(first, Checkpoint)
    assert first.files == ["a.txt", "src/new.py"]
    assert (first.trigger, first.session_id, first.step) == ("edit", "s1", 1)
    assert "a.txt" in first.summary
    write(workspace, "a.txt", "changed\n")
    write(workspace, "src/new.py", "new\n")
    result = cps.restore(first.id)
    assert result.restored == ["a.txt"]
    assert result.deleted == ["src/new.py"]
    assert tree_state(workspace) == before
    assert not (workspace / ".git").exists()


def test_git_workspace_with_staged_unstaged_and_stash_is_never_modified(tmp_path: Path, data_dir: Path,
                                                                        store: Store) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "calc.py", "def add(a, b):\n    return a + b\n")
    write(root, "notes.txt", "keep me\n")
    write(root, ".gitignore", "*.log\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "branch", "feature")
    write(root, "notes.txt", "keep me\nstashed\n")
    git(root, "stash", "push", "-q", "-m", "wip")
    write(root, "notes.txt", "keep me\nstaged change\n")
    git(root, "add", "notes.txt")
    write(root, "notes.txt", "keep me\nstaged change\nunstaged change\n")
    write(root, "untracked.txt", "new file\n")
    write(root, "debug.log", "ignored\n")
    dot_git_before = dot_git_state(root / ".git")
    repo_before = user_repo_state(root)
    files_before = tree_state(root)

    with Checkpoints(root, data_dir=data_dir, store=store) as cps:
        complete(cps)  # the session's baseline
        edit = cps.checkpoint(["calc.py", "notes.txt"], trigger="edit", session_id="s", step=1)
        write(root, "calc.py", "def add(a: int, b: int) -> int:\n    return a + b\n")
        write(root, "notes.txt", "agent rewrote it\n")
        write(root, "created.py", "x = 1\n")  # as a command would
        cps.checkpoint(None, trigger="command")
        assert dot_git_state(root / ".git") == dot_git_before
        result = cps.restore(edit.id)
        assert sorted(result.restored) == ["calc.py", "notes.txt"]
        assert result.deleted == ["created.py"]
        assert tree_state(root) == files_before
        assert user_repo_state(root) == repo_before
        cps.restore(result.safety_checkpoint)
        assert (root / "created.py").read_text() == "x = 1\n"
        cps.restore(edit.id)
    assert dot_git_state(root / ".git") == dot_git_before
    assert user_repo_state(root) == repo_before
    assert tree_state(root) == files_before


def test_users_git_environment_and_config_are_not_used(tmp_path: Path, data_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "a.txt", "text\r\nwith crlf\r\n")
    write(root, ".gitattributes", "* text=auto eol=lf\n*.txt filter=evil\n")
    # A hostile user setup: hooks, signing, filters, a global excludes file that hides *.txt.
    home = tmp_path / "home"
    marker = tmp_path / "hook-ran"
    write(home, "hooks/pre-commit", f"#!/bin/sh\ntouch {marker}\n", 0o755)
    write(home, "hooks/post-commit", f"#!/bin/sh\ntouch {marker}\n", 0o755)
    write(home, "ignore", "*.txt\n")
    write(home, ".gitconfig", f"[core]\n\thooksPath = {home / 'hooks'}\n\texcludesFile = {home / 'ignore'}\n"
                              "\tautocrlf = true\n[commit]\n\tgpgSign = true\n"
                              f"[filter \"evil\"]\n\tclean = touch {marker}; cat\n\trequired = true\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(root / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(root))
    monkeypatch.setenv("GIT_INDEX_FILE", str(root / ".git" / "index"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.hooksPath'='/nonexistent'")
    before = dot_git_state(root / ".git")
    with Checkpoints(root, data_dir=data_dir) as cps:
        whole = cps.checkpoint(None, trigger="manual")
        assert "a.txt" in whole.files
        write(root, "a.txt", "replaced\n")
        cps.restore(whole.id, ["a.txt"])
    assert (root / "a.txt").read_bytes() == b"text\r\nwith crlf\r\n"  # byte for byte: no eol conversion
    assert not marker.exists()
    assert dot_git_state(root / ".git") == before


def test_nested_repository_and_submodule_are_excluded_and_untouched(tmp_path: Path, data_dir: Path) -> None:
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q")
    write(upstream, "lib.py", "LIB = 1\n")
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "lib")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "main.py", "import lib\n")
    git(root, "submodule", "add", "-q", str(upstream), "vendor/lib")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "with submodule")
    nested = root / "tools" / "nested"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    write(nested, "tool.py", "TOOL = 1\n")
    write(root, "tools/own.py", "OWN = 1\n")
    assert (root / "vendor" / "lib" / ".git").is_file()
    guarded = {"root": dot_git_state(root / ".git"), "nested": dot_git_state(nested / ".git"),
               "sub": dot_git_state(root / "vendor" / "lib" / ".git")}

    with Checkpoints(root, data_dir=data_dir) as cps:
        whole = cps.checkpoint(None, trigger="manual")
        assert "tools/own.py" in whole.files
        assert not [f for f in whole.files if f.startswith(("tools/nested", "vendor/lib/"))]
        fast = cps.checkpoint(["tools/nested/tool.py", "vendor/lib/lib.py", "main.py"], trigger="edit")
        assert fast.files == ["main.py"]
        write(nested, "tool.py", "TOOL = 2\n")
        write(root, "vendor/lib/lib.py", "LIB = 2\n")
        write(nested, "extra.py", "new\n")
        write(root, "tools/own.py", "OWN = 2\n")
        plan = cps.plan_restore(whole.id)
        assert [f.path for f in plan.files] == ["tools/own.py"]
        cps.restore(whole.id)
        assert (root / "tools/own.py").read_text() == "OWN = 1\n"
        assert (nested / "tool.py").read_text() == "TOOL = 2\n"
        assert (nested / "extra.py").exists()
        assert (root / "vendor/lib/lib.py").read_text() == "LIB = 2\n"
        assert "tools/nested" not in cps.diff(whole.id)
    assert guarded == {"root": dot_git_state(root / ".git"), "nested": dot_git_state(nested / ".git"),
                       "sub": dot_git_state(root / "vendor" / "lib" / ".git")}


def test_directory_that_becomes_a_repository_is_dropped_from_later_checkpoints(cps: Checkpoints,
                                                                               workspace: Path) -> None:
    before = cps.checkpoint(None, trigger="manual")
    assert "src/main.py" in before.files
    git(workspace / "src", "init", "-q")
    write(workspace, "src/main.py", "changed inside the new repository\n")
    after = cps.checkpoint(None, trigger="manual")
    assert "src/main.py" in after.files  # it left the snapshot
    cps.restore(before.id)
    assert (workspace / "src/main.py").read_text() == "changed inside the new repository\n"
    assert (workspace / "src/.git").is_dir()


def test_gitignored_files_are_never_captured_nor_touched(cps: Checkpoints, workspace: Path) -> None:
    write(workspace, ".gitignore", "build/\n*.secret\n")
    write(workspace, "build/out.bin", b"\x00compiled")
    write(workspace, "key.secret", "v1\n")
    whole = cps.checkpoint(None, trigger="manual")
    assert not [f for f in whole.files if f.startswith("build/") or f.endswith(".secret")]
    fast = cps.checkpoint(["key.secret", "a.txt"], trigger="edit")
    assert fast.files == ["a.txt"]
    write(workspace, "key.secret", "v2\n")
    (workspace / "build/out.bin").unlink()
    write(workspace, "build/new.bin", "later\n")
    for checkpoint in (fast, whole):
        write(workspace, "a.txt", "edited\n")
        plan = cps.plan_restore(checkpoint.id)
        assert [f.path for f in plan.files] == ["a.txt"]
        cps.restore(checkpoint.id)
        assert (workspace / "key.secret").read_text() == "v2\n"
        assert not (workspace / "build/out.bin").exists()
        assert (workspace / "build/new.bin").read_text() == "later\n"
    assert cps.restore(fast.id, ["key.secret"]).restored == []


def test_file_ignored_after_the_checkpoint_is_not_touched(cps: Checkpoints, workspace: Path) -> None:
    write(workspace, "cache.dat", "old\n")
    checkpoint = cps.checkpoint(None, trigger="manual")
    assert "cache.dat" in checkpoint.files
    write(workspace, "cache.dat", "new\n")
    write(workspace, ".gitignore", "cache.dat\n")
    result = cps.restore(checkpoint.id)
    assert "cache.dat" in result.skipped
    assert (workspace / "cache.dat").read_text() == "new\n"
    assert result.deleted == [".gitignore"]


def test_first_checkpoint_of_known_paths_does_not_scan_the_tree(tmp_path: Path, data_dir: Path) -> None:
    root = tmp_path / "big"
    for d in range(30):
        for f in range(100):
            write(root, f"pkg{d}/mod{f}.py", f"VALUE = {d * 100 + f}\n")
    with Checkpoints(root, data_dir=data_dir) as cps:
        started = time.perf_counter()
        first = cps.checkpoint(["pkg3/mod7.py", "pkg4/new.py"], trigger="edit", session_id="s", step=1)
        elapsed = time.perf_counter() - started
        # one blob, the root tree and pkg3's (pkg4's tree lost nothing: the file is new), the commit
        objects = loose_objects(data_dir)
        assert len(objects) <= 5, objects
        assert not packs(data_dir)
        assert not list((data_dir / "checkpoints").glob("*/repo/index"))
        assert elapsed < 2.0  # generous for CI; measured ~10 ms (bench/checkpoints.py)
        assert first.files == ["pkg3/mod7.py", "pkg4/new.py"]


def test_baseline_runs_in_the_background_and_later_checkpoints_carry_its_files(cps: Checkpoints,
                                                                               workspace: Path) -> None:
    cps.start_baseline()
    cps.start_baseline()  # idempotent while one is waiting or running
    assert cps.wait_baseline(30)
    assert cps.last_scan_seconds is not None
    checkpoint = cps.checkpoint(["a.txt"], trigger="edit")
    write(workspace, "src/util.py", "changed by the user later\n")
    (workspace / "docs/readme.md").unlink()
    plan = cps.plan_restore(checkpoint.id)
    targets = {f.path: f.target for f in plan.files}
    assert targets == {"src/util.py": b"def util():\n    return 1\n", "docs/readme.md": b"# readme\n"}


def test_checkpoint_before_any_scan_is_completed_not_truncated(cps: Checkpoints, workspace: Path) -> None:
    """The first checkpoint of a session knows only its paths; restoring it must not delete the rest."""
    before = tree_state(workspace)
    first = cps.checkpoint(["a.txt"], trigger="edit", session_id="s", step=1)
    write(workspace, "a.txt", "agent edit\n")
    second = cps.checkpoint(["src/main.py"], trigger="edit", session_id="s", step=2)
    write(workspace, "src/main.py", "agent edit 2\n")
    result = cps.restore(first.id)  # completes both with a fresh scan first
    assert sorted(result.restored) == ["a.txt", "src/main.py"]
    assert result.deleted == []
    assert tree_state(workspace) == before
    cps.restore(result.safety_checkpoint)
    assert (workspace / "a.txt").read_text() == "agent edit\n"
    back = cps.restore(second.id)
    assert back.restored == ["src/main.py"]
    assert (workspace / "a.txt").read_text() == "agent edit\n"


def test_background_completion_after_writes(cps: Checkpoints, workspace: Path) -> None:
    first = cps.checkpoint(["a.txt"], trigger="edit")
    write(workspace, "a.txt", "one\n")
    complete(cps)
    write(workspace, "docs/readme.md", "user edit after the checkpoint\n")
    plan = cps.plan_restore(first.id)
    assert {f.path: f.target for f in plan.files} == {"a.txt": b"alpha\n", "docs/readme.md": b"# readme\n"}


def test_large_files_are_skipped_and_listed_never_deleted(workspace: Path, data_dir: Path) -> None:
    write(workspace, "big.bin", b"x" * 2048)
    with Checkpoints(workspace, data_dir=data_dir, max_file_bytes=1024) as cps:
        fast = cps.checkpoint(["big.bin", "a.txt"], trigger="edit")
        assert fast.files == ["a.txt"]
        assert fast.summary.endswith("(big.bin not saved: over the size limit)")
        whole = cps.checkpoint(None, trigger="manual")
        assert "big.bin" not in whole.files
        assert "big.bin not saved" in whole.summary
        write(workspace, "big.bin", b"y" * 4096)
        for checkpoint in (fast, whole):
            result = cps.restore(checkpoint.id)
            assert "big.bin" not in result.deleted + result.restored
            assert (workspace / "big.bin").read_bytes() == b"y" * 4096


def test_binary_files_are_stored_as_they_are(cps: Checkpoints, workspace: Path) -> None:
    blob = bytes(range(256)) * 4 + b"\r\n\x00end"
    write(workspace, "image.png", blob)
    write(workspace, ".gitattributes", "* text=auto\n*.png filter=lfs diff=lfs merge=lfs\n")
    checkpoint = cps.checkpoint(["image.png"], trigger="edit")
    write(workspace, "image.png", b"replaced")
    cps.restore(checkpoint.id, ["image.png"])
    assert (workspace / "image.png").read_bytes() == blob


def test_retention_keeps_the_last_n(workspace: Path, data_dir: Path, store: Store) -> None:
    with Checkpoints(workspace, data_dir=data_dir, store=store, retention=3) as cps:
        ids = [cps.checkpoint(["a.txt"], trigger="edit", step=step).id for step in range(5)]
        assert [c.id for c in cps.list()] == ids[::-1][:3]
        with pytest.raises(CheckpointError, match="unknown checkpoint"):
            cps.restore(ids[0])
        assert not list((data_dir / "checkpoints").glob(f"*/repo/refs/agentls/cp/*-{ids[0]}"))
        assert len(list((data_dir / "checkpoints").glob("*/repo/refs/agentls/cp/*"))) == 3
    with Checkpoints(workspace, data_dir=data_dir) as without_store:
        assert [c.id for c in without_store.list()] == ids[::-1][:3]


def test_list_is_the_same_from_the_store_and_from_the_repository(workspace: Path, data_dir: Path,
                                                                 store: Store) -> None:
    with Checkpoints(workspace, data_dir=data_dir, store=store) as cps:
        cps.checkpoint(["a.txt"], trigger="edit", session_id="s1", step=1, summary="first edit")
        cps.checkpoint(None, trigger="command", session_id="s1", step=2)
        cps.checkpoint(["src/main.py"], trigger="accept", session_id=None, step=None)
        from_store = cps.list()
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        from_repo = cps.list()
    assert from_store == from_repo
    assert [c.trigger for c in from_repo] == ["accept", "command", "edit"]
    assert from_repo[2].summary == "first edit"
    assert [c.time for c in from_repo] == sorted((c.time for c in from_repo), reverse=True)


def test_store_rows_are_rebuilt_from_the_repository(workspace: Path, data_dir: Path, store: Store) -> None:
    with Checkpoints(workspace, data_dir=data_dir) as cps:  # no store: rows are missing
        taken = cps.checkpoint(["a.txt"], trigger="edit", session_id="s", step=3)
    with Checkpoints(workspace, data_dir=data_dir, store=store) as cps:
        assert cps.list() == [taken]
    assert store.checkpoint_ids(str(workspace.resolve())) == {taken.id}


def test_unknown_and_abbreviated_ids(cps: Checkpoints) -> None:
    taken = cps.checkpoint(["a.txt"], trigger="manual")
    assert cps.plan_restore(taken.id[:8]).checkpoint.id == taken.id
    with pytest.raises(CheckpointError, match=r"unknown checkpoint 'nope'.*agentls checkpoints list"):
        cps.diff("nope")
    with pytest.raises(CheckpointError, match="unknown checkpoint trigger"):
        cps.checkpoint(["a.txt"], trigger="bogus")


def test_list_of_a_workspace_without_checkpoints_creates_nothing(workspace: Path, data_dir: Path) -> None:
    with Checkpoints(workspace, data_dir=data_dir) as cps:
        assert cps.list() == []
    assert not (data_dir / "checkpoints").exists()


def test_paths_outside_the_workspace_and_in_dot_git_are_ignored(cps: Checkpoints, workspace: Path,
                                                                 tmp_path: Path) -> None:
    outside = write(tmp_path, "outside.txt", "x\n")
    (workspace / ".git").mkdir()
    write(workspace, ".git/config", "[core]\n")
    os.symlink(outside, workspace / "link.txt")
    checkpoint = cps.checkpoint([str(outside), ".git/config", "../outside.txt", "link.txt", "a.txt"],
                                trigger="edit")
    assert checkpoint.files == ["a.txt"]


def test_diff_against_another_checkpoint_and_by_path(cps: Checkpoints, workspace: Path) -> None:
    first = cps.checkpoint(None, trigger="manual")
    write(workspace, "a.txt", "beta\n")
    write(workspace, "src/main.py", "print('bye')\n")
    second = cps.checkpoint(None, trigger="manual")
    text = cps.diff(first.id, against=second.id)
    assert "-alpha\n+beta\n" in text
    assert "src/main.py" in text
    only = cps.diff(first.id, against=second.id, paths=["src"])
    assert "a.txt" not in only
    assert "+print('bye')" in only
    assert cps.diff(second.id) == ""
    write(workspace, "a.txt", "gamma\n")
    assert "-beta\n+gamma\n" in cps.diff(second.id)


def test_checkpoint_taken_while_a_scan_runs_rereads_what_the_agent_wrote_since(cps: Checkpoints,
                                                                               workspace: Path) -> None:
    first = cps.checkpoint(["a.txt"], trigger="edit")
    cps.repo.mark_scan_running(next(iter(cps.repo.ids())))  # a scan began before a.txt was written
    try:
        write(workspace, "a.txt", "written while the scan ran\n")  # the scan may have read it before
        second = cps.checkpoint(["src/main.py"], trigger="edit")
    finally:
        cps.repo.mark_scan_running(None)
    assert second.files == ["src/main.py"]
    plan = cps.plan_restore(second.id, ["a.txt"])  # read again when `second` was taken
    assert plan.files == []
    write(workspace, "a.txt", "later\n")
    restored = cps.restore(second.id)
    assert restored.restored == ["a.txt"]
    assert (workspace / "a.txt").read_text() == "written while the scan ran\n"
    assert cps.plan_restore(first.id, ["a.txt"]).files[0].target == b"alpha\n"
