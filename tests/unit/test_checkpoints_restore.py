"""Restoring checkpoints: deleted, created and modified files, modes, symlinks, single paths, open
buffers left to the editor, undo, and files written by a command."""

# Fixtures come from the support module; using them as parameters shadows the imported names.
# ruff: noqa: F811

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agentls.checkpoints import Checkpoints
from tests.unit.test_checkpoints_support import (  # noqa: F401  (fixtures)
    complete,
    cps,
    data_dir,
    store,
    tree_state,
    workspace,
    write,
)


def test_restore_recreates_a_deleted_file_with_its_mode(cps: Checkpoints, workspace: Path) -> None:
    write(workspace, "run.sh", "#!/bin/sh\necho hi\n", 0o755)
    checkpoint = cps.checkpoint(["run.sh"], trigger="edit")
    (workspace / "run.sh").unlink()
    result = cps.restore(checkpoint.id)
    assert result.created == ["run.sh"]
    assert (workspace / "run.sh").read_text() == "#!/bin/sh\necho hi\n"
    assert os.access(workspace / "run.sh", os.X_OK)


def test_restore_deletes_files_created_after_and_their_empty_directories(cps: Checkpoints,
                                                                         workspace: Path) -> None:
    complete(cps)
    checkpoint = cps.checkpoint(["pkg/deep/new.py"], trigger="edit")
    write(workspace, "pkg/deep/new.py", "created by the agent\n")
    write(workspace, "src/also_new.py", "created by a command\n")
    cps.checkpoint(None, trigger="command")
    result = cps.restore(checkpoint.id)
    assert result.deleted == ["pkg/deep/new.py", "src/also_new.py"]
    assert not (workspace / "pkg").exists()
    assert (workspace / "src").is_dir()


def test_restore_of_a_mode_change(cps: Checkpoints, workspace: Path) -> None:
    write(workspace, "tool.py", "print(1)\n", 0o644)
    write(workspace, "bin.sh", "exit 0\n", 0o750)
    checkpoint = cps.checkpoint(["tool.py", "bin.sh"], trigger="edit")
    (workspace / "tool.py").chmod(0o755)
    (workspace / "bin.sh").chmod(0o640)
    plan = cps.plan_restore(checkpoint.id)
    assert {f.path: f.mode for f in plan.files} == {"tool.py": 0o100644, "bin.sh": 0o100755}
    cps.restore(checkpoint.id)
    assert (workspace / "tool.py").stat().st_mode & 0o777 == 0o644
    assert (workspace / "bin.sh").stat().st_mode & 0o777 == 0o750


def test_restore_of_symlinks_and_type_changes(cps: Checkpoints, workspace: Path) -> None:
    os.symlink("src/main.py", workspace / "link.py")
    checkpoint = cps.checkpoint(None, trigger="manual")
    (workspace / "link.py").unlink()
    write(workspace, "link.py", "now a regular file\n")
    (workspace / "a.txt").unlink()
    write(workspace, "a.txt/inside", "a directory where a file was\n")
    before_src = (workspace / "src/main.py").read_text()
    cps.restore(checkpoint.id)
    assert os.readlink(workspace / "link.py") == "src/main.py"
    assert (workspace / "a.txt").read_text() == "alpha\n"
    assert (workspace / "src/main.py").read_text() == before_src


def test_restore_of_a_single_path_leaves_the_rest(cps: Checkpoints, workspace: Path) -> None:
    complete(cps)
    checkpoint = cps.checkpoint(["a.txt", "src/main.py"], trigger="edit")
    write(workspace, "a.txt", "edited\n")
    write(workspace, "src/main.py", "edited\n")
    write(workspace, "src/extra.py", "new\n")
    result = cps.restore(checkpoint.id, ["a.txt"])
    assert result.restored == ["a.txt"]
    assert (workspace / "a.txt").read_text() == "alpha\n"
    assert (workspace / "src/main.py").read_text() == "edited\n"
    assert (workspace / "src/extra.py").exists()
    # a directory path: everything below it
    result = cps.restore(checkpoint.id, [str(workspace / "src")])
    assert (result.restored, result.deleted) == (["src/main.py"], ["src/extra.py"])


def test_restore_is_undoable(cps: Checkpoints, workspace: Path) -> None:
    complete(cps)
    checkpoint = cps.checkpoint(["a.txt", "new.txt"], trigger="edit")
    write(workspace, "a.txt", "edited\n")
    write(workspace, "new.txt", "new\n")
    write(workspace, "docs/readme.md", "# user edit\n")
    (workspace / "src/util.py").unlink()
    edited = tree_state(workspace)
    result = cps.restore(checkpoint.id)
    assert tree_state(workspace) != edited
    undo = cps.restore(result.safety_checkpoint)
    assert tree_state(workspace) == edited
    assert [c.trigger for c in cps.list()][:2] == ["restore", "restore"]
    assert undo.safety_checkpoint != result.safety_checkpoint


def test_single_path_restore_is_undoable(cps: Checkpoints, workspace: Path) -> None:
    complete(cps)
    checkpoint = cps.checkpoint(["a.txt"], trigger="edit")
    write(workspace, "a.txt", "edited\n")
    result = cps.restore(checkpoint.id, ["a.txt"])
    assert (workspace / "a.txt").read_text() == "alpha\n"
    cps.restore(result.safety_checkpoint, ["a.txt"])
    assert (workspace / "a.txt").read_text() == "edited\n"


def test_command_checkpoint_captures_files_written_by_the_command(cps: Checkpoints, workspace: Path) -> None:
    complete(cps)
    script = "import pathlib; pathlib.Path('gen').mkdir(); pathlib.Path('gen/out.py').write_text('OUT = 1\\n');" \
             "pathlib.Path('a.txt').write_text('rewritten by the command\\n')"
    subprocess.run([sys.executable, "-c", script], cwd=workspace, check=True)
    after = cps.checkpoint(None, trigger="command", session_id="s", step=4)
    assert after.files == ["a.txt", "gen/out.py"]
    assert "2 files changed" in after.summary
    write(workspace, "gen/out.py", "OUT = 2\n")
    (workspace / "a.txt").unlink()
    cps.restore(after.id)
    assert (workspace / "gen/out.py").read_text() == "OUT = 1\n"
    assert (workspace / "a.txt").read_text() == "rewritten by the command\n"


def test_open_buffers_are_left_to_the_editor(cps: Checkpoints, workspace: Path) -> None:
    checkpoint = cps.checkpoint(["a.txt", "src/main.py"], trigger="accept")
    write(workspace, "a.txt", "edited\n")
    write(workspace, "src/main.py", "edited\n")
    plan = cps.plan_restore(checkpoint.id)
    assert (workspace / "a.txt").read_text() == "edited\n"  # a plan changes nothing
    by_path = {f.path: f for f in plan.files}
    assert by_path["a.txt"].target == b"alpha\n"
    assert by_path["a.txt"].current is not None
    assert len(by_path["a.txt"].current) == 40
    result = cps.restore(checkpoint.id, skip={"src/main.py"})
    assert result.restored == ["a.txt"]
    assert result.skipped == ["src/main.py"]
    assert (workspace / "src/main.py").read_text() == "edited\n"


def test_plan_lists_deletions_and_creations(cps: Checkpoints, workspace: Path) -> None:
    complete(cps)
    checkpoint = cps.checkpoint(["a.txt", "fresh.txt"], trigger="edit")
    (workspace / "a.txt").unlink()
    write(workspace, "fresh.txt", "new\n")
    plan = cps.plan_restore(checkpoint.id)
    by_path = {f.path: f for f in plan.files}
    assert by_path["a.txt"].current is None
    assert by_path["a.txt"].target == b"alpha\n"
    assert by_path["fresh.txt"].target is None
    assert by_path["fresh.txt"].mode is None
    assert plan.checkpoint == checkpoint


def test_restore_never_writes_through_a_symlinked_directory(cps: Checkpoints, workspace: Path,
                                                            tmp_path: Path) -> None:
    checkpoint = cps.checkpoint(None, trigger="manual")
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("main.py", "util.py"):
        (workspace / "src" / name).unlink()
    (workspace / "src").rmdir()
    os.symlink(outside, workspace / "src")
    assert cps.restore(checkpoint.id, ["src/main.py"]).skipped == ["src/main.py"]
    result = cps.restore(checkpoint.id)  # the symlink goes (created after), the directory comes back
    assert (result.deleted, result.created) == (["src"], ["src/main.py", "src/util.py"])
    assert list(outside.iterdir()) == []
    assert (workspace / "src").is_dir()
    assert not (workspace / "src").is_symlink()
