"""Applying a multi-file change is all or nothing, and a write never follows a symlink swapped in meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agentls.agent.overlay import Overlay
from agentls.agent.workspace import Workspace
from agentls.errors import AgentlsError
from agentls.write_journal import temp_name
from agentls.write_transaction import ON_DISK, FileWrite, WriteFailed, recover, write_all


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    (path / "src").mkdir(parents=True)
    (path / "src" / "a.py").write_text("a = 1\n")
    (path / "src" / "b.py").write_text("b = 1\n")
    return path


def test_a_failing_file_undoes_the_ones_already_written(root: Path) -> None:
    before = _tree(root)
    too_long = "src/" + "x" * 256 + ".py"  # the file system refuses the name itself
    with pytest.raises(WriteFailed, match=r"could not write src/x+\.py: .*; nothing was changed"):
        write_all(str(root), [FileWrite("src/a.py", "a = 1\n", "a = 2\n"), FileWrite("new/c.py", None, "c = 1\n"),
                              FileWrite("src/b.py", "b = 1\n", None), FileWrite(too_long, None, "y = 1\n")])
    assert _tree(root) == before
    assert not (root / "new").exists()  # the directory made for c.py is gone too
    assert not [p for p in root.rglob("*") if p.name.endswith(".agentls-tmp")]


def test_a_name_near_the_limit_is_written(root: Path) -> None:
    name = "src/" + "n" * 250 + ".py"  # 253 bytes: a temporary name built from it would not fit
    write_all(str(root), [FileWrite(name, None, "ok = True\n")])
    assert (root / name).read_text() == "ok = True\n"


def test_a_directory_replaced_by_a_file_is_one_clear_error(root: Path) -> None:
    ws = Workspace(root, ())
    overlay = Overlay(ws)
    overlay.write("src/a.py", "a = 2\n")
    overlay.write("pkg/mod.py", "m = 1\n")
    (root / "pkg").write_text("I am a file now\n")  # meanwhile
    with pytest.raises(AgentlsError) as caught:
        overlay.commit()
    assert "pkg" in str(caught.value)
    assert (root / "src" / "a.py").read_text() == "a = 1\n"


def test_a_directory_swapped_for_a_symlink_is_not_followed(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rename(root / "src", tmp_path / "src-moved")
    (root / "src").symlink_to(outside, target_is_directory=True)  # after the path check, before the write
    with pytest.raises(WriteFailed, match="replaced by a symlink"):
        write_all(str(root), [FileWrite("src/a.py", "a = 1\n", "owned = True\n")])
    assert list(outside.iterdir()) == []


def test_modes_are_kept_and_new_files_get_the_umask(root: Path) -> None:
    (root / "run.sh").write_text("echo hi\n")
    os.chmod(root / "run.sh", 0o755)
    write_all(str(root), [FileWrite("run.sh", "echo hi\n", "echo bye\n"), FileWrite("new.txt", None, "x\n")])
    assert (root / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (root / "new.txt").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Python run before a script's write: the process kills itself (kill -9) right after the first workspace
#: file is renamed in, between it and the next (the journal's own rename does not count).
KILL_AFTER_FIRST_RENAME = """
import os, signal
real = os.rename
def rename(*args, **kwargs):
    real(*args, **kwargs)
    if "src_dir_fd" in kwargs:  # a workspace file, not the journal
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between the first rename and the second
os.rename = rename
"""

CRASH = KILL_AFTER_FIRST_RENAME + """
import sys
from agentls.write_transaction import FileWrite, write_all
write_all(sys.argv[1], [FileWrite("a.py", "a = 1\\n", "a = 2\\n"), FileWrite("b.py", "b = 1\\n", "b = 2\\n")])
"""


def test_a_crash_mid_apply_is_repaired_and_reported_at_the_next_start(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("a = 1\n")
    (root / "b.py").write_text("b = 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env["AGENTLS_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run([sys.executable, "-c", CRASH, str(root)], env=env, check=False)
    assert done.returncode == -signal.SIGKILL
    assert [p.name for p in root.iterdir() if p.name.endswith(".agentls-tmp")]  # b.py's new text, left over
    headless = subprocess.run([sys.executable, "-m", "agentls", "run", "--workspace", str(root), "hello"],
                              env={**env, "XDG_CONFIG_HOME": str(tmp_path / "cfg")},
                              capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=60)
    assert "an earlier change was interrupted while it was written" in headless.stderr
    assert "a.py, b.py" in headless.stderr
    assert not [p.name for p in root.iterdir() if p.name.endswith(".agentls-tmp")]
    assert recover(str(root.resolve())) is None  # reported once


def _state(root: Path) -> dict[str, object]:
    """Every path below ``root``: a directory's mode, a symlink's target, a file's content and mode."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[rel] = ("dir", path.stat().st_mode & 0o777)
        else:
            found[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return found


def _restore_like(root: Path) -> list[FileWrite]:
    """Every kind of change a checkpoint restore makes: a file becomes a directory and the reverse, a symlink,
    the execute bit set and cleared, a deletion that empties directories, bytes that are not UTF-8."""
    (root / "was_file").write_text("a file\n")
    (root / "was_dir").mkdir(mode=0o750)
    (root / "was_dir" / "inner.txt").write_text("inner\n")
    (root / "tool.sh").write_text("echo\n")
    os.chmod(root / "tool.sh", 0o640)
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / "gone.txt").write_text("gone\n")
    os.chmod(root / "src" / "b.py", 0o755)
    return [FileWrite("was_file", ON_DISK, None, prune=True),
            FileWrite("was_dir/inner.txt", ON_DISK, None, prune=True),
            FileWrite("deep/er/gone.txt", ON_DISK, None, prune=True),
            FileWrite("was_file/now.txt", ON_DISK, b"now\n"),
            FileWrite("was_dir", ON_DISK, b"\xff\xfe binary\n"),
            FileWrite("tool.sh", ON_DISK, b"echo 2\n", executable=True),
            FileWrite("src/b.py", ON_DISK, b"b = 2\n", executable=False),
            FileWrite("src/link.py", ON_DISK, b"a.py", symlink=True),
            FileWrite("new/dir/made.txt", ON_DISK, b"made\n")]


def test_restore_like_changes_are_written(root: Path) -> None:
    write_all(str(root), _restore_like(root), restoring="c1", safety="s1")
    state = _state(root)
    assert state["was_file/now.txt"] == (b"now\n", 0o666 & ~_umask())
    assert state["was_dir"] == (b"\xff\xfe binary\n", 0o666 & ~_umask())
    assert state["tool.sh"] == (b"echo 2\n", 0o750)
    assert state["src/b.py"] == (b"b = 2\n", 0o644)
    assert state["src/link.py"] == "-> a.py"
    assert state["new/dir/made.txt"] == (b"made\n", 0o666 & ~_umask())
    assert "deep" not in state  # emptied by the deletion, removed
    assert not [p for p in state if p.endswith(".agentls-tmp")]


@pytest.mark.parametrize("fail_at", [0, 1, 3, 5])
def test_restore_like_changes_are_undone_after_a_late_failure(root: Path, fail_at: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    writes = _restore_like(root)
    before = _state(root)
    real = os.rename
    count = [0]

    def rename(src: str, dst: str, **kwargs: object) -> None:
        count[0] += 1
        if count[0] == fail_at + 1:
            raise OSError(5, "Input/output error")
        real(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(WriteFailed, match=r"^could not write \S+: Input/output error; nothing was changed$"):
        write_all(str(root), writes, restoring="c1", safety="s1")
    monkeypatch.undo()
    assert _state(root) == before
    assert recover(str(root)) is None  # no journal left behind


def test_a_deletion_leaves_directories_alone(root: Path) -> None:
    write_all(str(root), [FileWrite("src", ON_DISK, None), FileWrite("absent/x.py", ON_DISK, None)])
    assert (root / "src" / "a.py").exists()


def test_a_file_over_a_directory_that_is_not_emptied_is_refused(root: Path) -> None:
    with pytest.raises(WriteFailed, match="could not write src: it is a directory; nothing was changed"):
        write_all(str(root), [FileWrite("src", ON_DISK, b"x\n")])


def test_a_journal_of_a_live_process_or_of_the_preparation_is_not_reported(root: Path) -> None:
    from agentls.write_journal import Journal

    live = Journal(str(root), "aaaa", ["src/a.py", "src/b.py"], None, None)
    live.record["pid"] = os.getppid()
    live.phase("commit")
    (root / "src" / temp_name("bbbb", 1)).write_text("left over\n")
    Journal(str(root), "bbbb", ["src/a.py", "src/b.py"], "c1", "s1").phase("prepare")
    assert recover(str(root)) is None  # the preparation: nothing was changed
    assert not (root / "src" / temp_name("bbbb", 1)).exists()
    assert live.path.exists()  # another agentls is writing: left to it
