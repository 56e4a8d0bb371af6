"""``agentls checkpoints list|diff|restore`` as a user runs them: subprocesses on a real git repository
whose checkpoints an agent session took (through the same data directory and store)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from agentls.checkpoints import Checkpoints
from agentls.store.db import Store
from tests.unit.test_checkpoints_support import dot_git_state, git, tree_state, user_repo_state, write


def agentls(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLS_", "GIT_"))}
    env.update(AGENTLS_DATA_DIR=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    return subprocess.run([sys.executable, "-m", "agentls", "checkpoints", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120, check=False, stdin=subprocess.DEVNULL)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "calc.py", "def add(a, b):\n    return a + b\n")
    write(root, "notes.txt", "keep me\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    write(root, "notes.txt", "keep me\nstashed\n")
    git(root, "stash", "push", "-q")
    write(root, "notes.txt", "keep me\nstaged\n")
    git(root, "add", "notes.txt")
    write(root, "notes.txt", "keep me\nstaged\nunstaged\n")
    return root


@pytest.fixture
def session(repo: Path, tmp_path: Path) -> tuple[str, str]:
    """An agent session: a checkpoint before an edit, the edit, a command, a checkpoint after it."""
    data = tmp_path / "home" / "data"
    store = Store(data / "agentls.db")
    with Checkpoints(repo, data_dir=data, store=store) as cps:
        cps.start_baseline()
        assert cps.wait_baseline(60)
        before = cps.checkpoint(["calc.py", "test_calc.py"], trigger="edit", session_id="s1", step=1)
        write(repo, "calc.py", "def add(a: int, b: int) -> int:\n    return a + b\n")
        write(repo, "test_calc.py", "from calc import add\n")
        after = cps.checkpoint(None, trigger="command", session_id="s1", step=2)
    store.close()
    return before.id, after.id


def test_list_diff_restore_and_undo(repo: Path, tmp_path: Path, session: tuple[str, str]) -> None:
    home = tmp_path / "home"
    before, after = session
    edited = tree_state(repo)
    guarded = dot_git_state(repo / ".git")
    repo_state = user_repo_state(repo)

    listed = agentls(home, "list", "--json", cwd=repo)  # --workspace defaults to the current directory
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)
    assert [e["id"] for e in entries] == [after, before]
    assert entries[1] | {"time": 0, "when": "", "createdAt": ""} == {
        "id": before, "time": 0, "when": "", "createdAt": "", "trigger": "edit", "session_id": "s1", "step": 1,
        "summary": "before an edit: calc.py, test_calc.py", "files": ["calc.py", "test_calc.py"]}
    assert re.fullmatch(r"\d\d:\d\d:\d\d", entries[1]["when"])  # local time, readable (today: the time)
    assert datetime.fromisoformat(entries[1]["createdAt"]).timestamp() == pytest.approx(entries[1]["time"], abs=1)
    text = agentls(home, "list", "--workspace", str(repo))
    assert before in text.stdout
    assert "command" in text.stdout

    diff = agentls(home, "diff", before[:8], "--json", "--workspace", str(repo))
    assert diff.returncode == 0, diff.stderr
    body = json.loads(diff.stdout)["diff"]
    assert "-def add(a, b):\n+def add(a: int, b: int) -> int:" in body
    assert "+++ b/test_calc.py" in body
    against = agentls(home, "diff", before, "--against", after, "calc.py", "--workspace", str(repo))
    assert against.stdout.startswith("diff --git a/calc.py b/calc.py")
    assert "test_calc.py" not in against.stdout

    restored = agentls(home, "restore", before, "--json", "--workspace", str(repo))
    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert (result["restored"], result["deleted"], result["created"]) == (["calc.py"], ["test_calc.py"], [])
    assert result["undo"] == f"agentls checkpoints restore {result['safety_checkpoint']}"
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert not (repo / "test_calc.py").exists()
    assert (repo / "notes.txt").read_text() == "keep me\nstaged\nunstaged\n"

    undo = agentls(home, "restore", result["safety_checkpoint"], "--workspace", str(repo))
    assert undo.returncode == 0, undo.stderr
    assert "restored    calc.py" in undo.stdout
    assert "created     test_calc.py" in undo.stdout
    assert "undo with: agentls checkpoints restore " in undo.stdout
    assert tree_state(repo) == edited
    assert dot_git_state(repo / ".git") == guarded
    assert user_repo_state(repo) == repo_state


def test_restore_of_one_path(repo: Path, tmp_path: Path, session: tuple[str, str]) -> None:
    before, _ = session
    done = agentls(tmp_path / "home", "restore", before, "test_calc.py", "--workspace", str(repo))
    assert done.returncode == 0, done.stderr
    assert not (repo / "test_calc.py").exists()
    assert (repo / "calc.py").read_text().startswith("def add(a: int")


def test_errors_are_one_line(repo: Path, tmp_path: Path, session: tuple[str, str]) -> None:
    home = tmp_path / "home"
    unknown = agentls(home, "restore", "deadbeef", "--workspace", str(repo))
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("agentls: unknown checkpoint 'deadbeef'")
    assert unknown.stderr.count("\n") == 1
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    empty = agentls(home, "list", "--workspace", str(elsewhere))
    assert empty.returncode == 0
    assert empty.stdout.startswith("no checkpoints for")
    assert json.loads(agentls(home, "list", "--json", "--workspace", str(elsewhere)).stdout) == []
    missing = agentls(home, "list", "--workspace", str(tmp_path / "nope"))
    assert missing.returncode == 2
