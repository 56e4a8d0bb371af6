"""``agentls run`` as a user runs it: a subprocess, the fake Messages API, a real git workspace."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.messages_api import AUTO_THINKING, FakeMessagesAPI, Reply, Text, ToolUse, Usage
from tests.fakes.messages_api.binding import clean

EDITOR = "str_replace_based_edit_tool"


def edit(command: str, **params: object) -> ToolUse:
    return ToolUse(EDITOR, {"command": command, **params})


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def git_state(root: Path) -> dict[str, str]:
    """Everything about the user's repository that agentls must never change."""
    return {
        "head": git(root, "rev-parse", "HEAD"),
        "branches": git(root, "branch", "-a", "-v"),
        "index": (root / ".git" / "index").read_bytes().hex(),
        "staged": git(root, "diff", "--cached"),
        "stash": git(root, "stash", "list"),
        "config": (root / ".git" / "config").read_text(),
        "reflog": git(root, "reflog"),
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "notes.txt").write_text("keep me\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    (root / "notes.txt").write_text("keep me\nstaged change\n")
    git(root, "add", "notes.txt")
    (root / "notes.txt").write_text("keep me\nstaged change\nunstaged change\n")
    git(root, "stash", "list")
    return root


def agentls(fake: FakeMessagesAPI, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(fake.env(), XDG_CONFIG_HOME=str(home / "config"), AGENTLS_DATA_DIR=str(home / "data"),
               AGENTLS_MODEL__RETRY__BASE_DELAY_S="0.01")
    return subprocess.run([sys.executable, "-m", "agentls", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)


SCRIPT = [
    Reply([Text("Looking at calc.py."), edit("view", path="calc.py")],
          usage=Usage(input_tokens=1200, output_tokens=40)),
    Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):\n    return a + b",
                new_str="def add(a: int, b: int) -> int:\n    return a + b")],
          usage=Usage(input_tokens=60, output_tokens=80, cache_read_input_tokens=1200)),
    Reply([edit("create", path="test_calc.py", file_text="from calc import add\n\n\ndef test_add():\n"
                                                          "    assert add(2, 3) == 5\n")]),
    Reply.text("Added type hints to add() and a test."),
]


def test_run_applies_the_session_and_leaves_git_alone(fake_messages_api: FakeMessagesAPI, repo: Path,
                                                      tmp_path: Path) -> None:
    fake_messages_api.add(*SCRIPT)
    before = git_state(repo)
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "add type hints")
    assert result.returncode == 0, result.stderr
    assert (repo / "calc.py").read_text() == "def add(a: int, b: int) -> int:\n    return a + b\n"
    assert "assert add(2, 3) == 5" in (repo / "test_calc.py").read_text()
    assert (repo / "notes.txt").read_text() == "keep me\nstaged change\nunstaged change\n"
    assert git_state(repo) == before
    assert result.stdout.strip() == "Added type hints to add() and a test."
    assert "2 file(s) changed" in result.stderr
    assert "+def add(a: int, b: int) -> int:" in result.stderr  # the diff was shown
    assert "-> view calc.py" in result.stderr  # plain progress lines (stderr is not a terminal)
    assert f"thinking: {AUTO_THINKING}" in result.stderr  # the thinking summary, as progress
    # The current model's rules held: every turn went back exactly as served (thinking blocks and their
    # signatures included), and nothing the API rejects was sent.
    requests = fake_messages_api.message_requests
    assert [r.served.split("(")[0] for r in requests] == ["Reply"] * 4
    for earlier, later in itertools.pairwise(requests):
        sent_back = later.body["messages"][len(earlier.body["messages"])]["content"]
        assert clean(sent_back) == clean(earlier.response["content"])  # type: ignore[index]
        assert sent_back[0]["type"] == "thinking"
        assert sent_back[0]["signature"]

    usage = agentls(fake_messages_api, tmp_path, "usage", "--workspace", str(repo), "--json")
    sessions = json.loads(usage.stdout)
    assert len(sessions) == 1
    assert sessions[0]["status"] == "completed"
    assert sessions[0]["turns"] == 4
    assert sessions[0]["cache_read_tokens"] == 1200
    assert sessions[0]["cost_usd"] > 0
    table = agentls(fake_messages_api, tmp_path, "usage", "--workspace", str(repo))
    assert "add type hints" in table.stdout


def test_json_output(fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:
    fake_messages_api.add(*SCRIPT)
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "--json", "hints")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "completed"
    assert payload["applied"] == ["calc.py", "test_calc.py"]
    assert payload["usage"]["cache_read_tokens"] == 1200
    assert payload["turns"] == 4


def test_without_yes_and_no_terminal_nothing_is_applied(fake_messages_api: FakeMessagesAPI, repo: Path,
                                                       tmp_path: Path) -> None:
    fake_messages_api.add(*SCRIPT)
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "add type hints")
    assert result.returncode == 3
    assert "pass --yes to apply" in result.stderr
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert not (repo / "test_calc.py").exists()


def test_a_missing_api_key_is_one_clear_line(fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), AGENTLS_DATA_DIR=str(tmp_path / "data"),
               ANTHROPIC_BASE_URL=fake_messages_api.base_url)
    result = subprocess.run([sys.executable, "-m", "agentls", "run", "--workspace", str(repo), "--yes", "x"],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "ANTHROPIC_API_KEY" in last
    assert "model.api_key" in last
    assert "Traceback" not in result.stderr
    assert fake_messages_api.requests == []


def test_a_user_edit_during_the_session_is_not_overwritten(fake_messages_api: FakeMessagesAPI, repo: Path,
                                                           tmp_path: Path) -> None:
    def user_types_meanwhile(request: object) -> Reply:
        (repo / "calc.py").write_text("def add(a, b):\n    return b + a  # user\n")
        return Reply.text("done")

    fake_messages_api.add(
        Reply([edit("str_replace", path="calc.py", old_str="return a + b", new_str="return a+b")]),
        user_types_meanwhile,
    )
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "x")
    assert result.returncode == 1
    assert "calc.py" in result.stderr.strip().splitlines()[-1]
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return b + a  # user\n"


def test_run_checkpoints_first_and_can_be_rolled_back(fake_messages_api: FakeMessagesAPI, repo: Path,
                                                      tmp_path: Path) -> None:
    fake_messages_api.add(*SCRIPT)
    before = git_state(repo)
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "add type hints")
    assert result.returncode == 0, result.stderr
    assert "undo with: agentls checkpoints restore" in result.stderr

    listed = json.loads(agentls(fake_messages_api, tmp_path, "checkpoints", "list", "--workspace", str(repo),
                                "--json").stdout)
    edit_checkpoint = next(c for c in listed if c["trigger"] == "edit")
    assert set(edit_checkpoint["files"]) >= {"calc.py", "test_calc.py"}

    restored = agentls(fake_messages_api, tmp_path, "checkpoints", "restore", edit_checkpoint["id"],
                       "--workspace", str(repo), "--json")
    assert restored.returncode == 0, restored.stderr
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert not (repo / "test_calc.py").exists()  # created by the agent: gone again
    assert (repo / "notes.txt").read_text() == "keep me\nstaged change\nunstaged change\n"
    assert git_state(repo) == before


def test_a_config_that_still_sets_temperature_runs_with_one_warning(fake_messages_api: FakeMessagesAPI, repo: Path,
                                                                    tmp_path: Path) -> None:
    (repo / "agentls.toml").write_text("[model]\ntemperature = 0.2\neffort = \"low\"\n")
    fake_messages_api.add(*SCRIPT)
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "add type hints")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "temperature" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("agentls: warning: workspace config (")
    assert "'model.temperature' is no longer supported" in warnings[0]
    assert "Traceback" not in result.stderr
    body = fake_messages_api.message_requests[0].body
    assert "temperature" not in body
    assert body["output_config"] == {"effort": "low"}


def test_a_setting_the_model_rejects_fails_before_any_request(fake_messages_api: FakeMessagesAPI, repo: Path,
                                                              tmp_path: Path) -> None:
    (repo / "agentls.toml").write_text("[model]\nmax_tokens = 500000\n")
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "add type hints")
    assert result.returncode == 1
    assert "model.max_tokens = 500,000 is more than claude-sonnet-5-5 can write in one turn" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_messages_api.message_requests == []
