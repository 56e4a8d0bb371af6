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
from agentls.agent.write_transaction import FileWrite, WriteFailed, recover, write_all
from agentls.errors import AgentlsError


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


CRASH = """
import os, signal, sys
from agentls.agent.write_transaction import FileWrite, write_all
real = os.replace
def replace(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between the first rename and the second
os.replace = replace
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
