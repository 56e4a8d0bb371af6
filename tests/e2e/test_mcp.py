"""MCP tools end to end: ``agentls run`` against real third-party MCP servers (mcp-server-git from PyPI,
server-everything from npm, installed by ``scripts/mcp-servers-setup``) and a fault server of our own, with
the fake Messages API. What a server answers must reach the model; what a workspace declares must not run
until the user trusts it; tools that change things ask first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_headless import agentls, git, repo  # noqa: F401 - the fixture
from tests.fakes.messages_api import FakeMessagesAPI, Reply, Text, ToolUse

CACHE = Path(os.environ.get("AGENTLS_MCP_CACHE", Path.home() / ".cache/agentls/mcp-servers"))
GIT_SERVER = CACHE / "venv/bin/mcp-server-git"
EVERYTHING = CACHE / "npm/node_modules/.bin/mcp-server-everything"
FAULTS = Path(__file__).parent.parent / "fixtures/mcp/fault_server.py"

needs_git_server = pytest.mark.skipif(not GIT_SERVER.exists(),
                                      reason="mcp-server-git not installed (bash scripts/mcp-servers-setup)")
needs_everything = pytest.mark.skipif(not EVERYTHING.exists(),
                                      reason="server-everything not installed (needs npm; scripts/mcp-servers-setup)")


def user_config(home: Path, text: str) -> None:
    path = home / "config/agentls/config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def results_sent(fake: FakeMessagesAPI) -> list[dict[str, Any]]:
    """Every tool_result block the model received in the last session (its last request holds them all)."""
    return [block for message in fake.message_requests[-1].body["messages"]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    content = block["content"]
    return content if isinstance(content, str) else "\n".join(b.get("text", "") for b in content)


def tool_names(fake: FakeMessagesAPI) -> list[str]:
    return [tool["name"] for tool in fake.message_requests[0].body.get("tools", [])]


def faults_toml(name: str = "faults", **env: str) -> str:
    env_line = ", ".join(f'{k} = "{v}"' for k, v in env.items())
    return (f'[mcp.servers.{name}]\ncommand = "{sys.executable}"\nargs = ["{FAULTS}"]\n'
            f"env = {{ {env_line} }}\n")


@needs_git_server
def test_a_real_servers_answer_reaches_the_model(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                 tmp_path: Path) -> None:
    user_config(tmp_path, f'[mcp.servers.git]\ncommand = "{GIT_SERVER}"\nargs = ["--repository", "{repo}"]\n')
    fake_messages_api.add(
        Reply([Text("Checking the repository."), ToolUse("mcp__git__git_status", {"repo_path": str(repo)})]),
        Reply([ToolUse("mcp__git__git_log", {"repo_path": str(repo), "max_count": 1})]),
        Reply.text("The repository has a staged change to notes.txt."))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "what changed?")
    assert result.returncode == 0, result.stderr
    names = tool_names(fake_messages_api)
    assert {"mcp__git__git_status", "mcp__git__git_log", "mcp__git__git_commit"} <= set(names)
    assert "str_replace_based_edit_tool" in names
    status, log = results_sent(fake_messages_api)
    assert not status.get("is_error"), status
    assert "On branch main" in result_text(status)
    assert "notes.txt" in result_text(status)
    assert "initial" in result_text(log)
    assert "-> " in result.stderr
    assert "-> git: git_status" in result.stderr  # shown like a built-in tool call
    audit = [json.loads(line) for line in (tmp_path / "data/audit.jsonl").read_text().splitlines()]
    assert any(e.get("event") == "mcp_call" and e.get("tool") == "git_status" for e in audit)


def test_a_workspace_server_never_runs_until_trusted(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                     tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    starts = tmp_path / "starts"
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"helper": {
        "command": sys.executable, "args": [str(FAULTS)], "env": {"FAULT_STARTS": str(starts)}}}}))
    (repo / ".vscode").mkdir()
    (repo / ".vscode/mcp.json").write_text(json.dumps({"servers": {"other": {
        "type": "stdio", "command": "sh", "args": ["-c", f"touch {marker}"]}}}))
    fake_messages_api.add(Reply.text("Nothing to do."))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "look")
    assert result.returncode == 0, result.stderr
    assert not starts.exists()
    assert not marker.exists()
    assert not [n for n in tool_names(fake_messages_api) if n.startswith("mcp__")]
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len([n for n in notes if "'helper' (.mcp.json)" in n and "agentls mcp trust helper" in n]) == 1, notes
    assert len([n for n in notes if "'other' (.vscode/mcp.json)" in n]) == 1, notes

    listed = agentls(fake_messages_api, tmp_path, "mcp", "list", "--workspace", str(repo), "--json")
    states = {s["name"]: s["state"] for s in json.loads(listed.stdout)}
    assert states == {"helper": "waiting for trust", "other": "waiting for trust"}
    assert not starts.exists()

    trusted = agentls(fake_messages_api, tmp_path, "mcp", "trust", "helper", "--workspace", str(repo), "--yes")
    assert trusted.returncode == 0, trusted.stderr
    fake_messages_api.add(Reply([ToolUse("mcp__helper__ping")]), Reply.text("pong it is"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "ping")
    assert result.returncode == 0, result.stderr
    assert starts.exists()
    assert result_text(results_sent(fake_messages_api)[-1]) == "pong"
    assert not marker.exists()

    # A changed definition asks again: the trust was for the definition as it was.
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"helper": {
        "command": sys.executable, "args": [str(FAULTS), "--changed"], "env": {"FAULT_STARTS": str(starts)}}}}))
    before = starts.read_text()
    fake_messages_api.add(Reply.text("ok"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "again")
    assert starts.read_text() == before
    assert "agentls mcp trust helper" in result.stderr


def test_a_tool_that_changes_things_asks_first(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                              tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    user_config(tmp_path, faults_toml(FAULT_NOTES=str(notes)))
    call = ToolUse("mcp__faults__write_note", {"text": "hello"})
    # No terminal, no --yes: nobody approves, the model is told so.
    fake_messages_api.add(Reply([call]), Reply.text("done"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "note it")
    declined = results_sent(fake_messages_api)[-1]
    assert declined["is_error"], (declined, result.stderr)
    assert "declined" in result_text(declined)
    assert not notes.exists()
    # --yes approves the tools of a trusted server.
    fake_messages_api.add(Reply([call]), Reply.text("done"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "note it")
    assert result_text(results_sent(fake_messages_api)[-1]) == "noted: hello"
    assert notes.read_text() == "hello\n"
    # An mcp.allow pattern approves without a question.
    user_config(tmp_path, faults_toml(FAULT_NOTES=str(notes)) + '\n[mcp]\nallow = ["mcp__faults__write_*"]\n')
    fake_messages_api.add(Reply([call]), Reply.text("done"))
    agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "note it")
    assert notes.read_text() == "hello\nhello\n"


def test_a_crashed_server_is_restarted_once_then_reported(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                           tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    user_config(tmp_path, faults_toml(FAULT_STARTS=str(starts)))
    fake_messages_api.add(Reply([ToolUse("mcp__faults__crash")]), Reply([ToolUse("mcp__faults__ping")]),
                          Reply([ToolUse("mcp__faults__crash")]), Reply([ToolUse("mcp__faults__ping")]),
                          Reply.text("the server is gone"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "crash it")
    assert result.returncode == 0, result.stderr
    first, ping, second, after = results_sent(fake_messages_api)
    assert first["is_error"]
    assert "restarted" in result_text(first)
    assert "crashing on purpose" in result_text(first)
    assert result_text(ping) == "pong"
    assert second["is_error"]
    assert "stopped again" in result_text(second)
    assert after["is_error"]
    assert "not available" in result_text(after)
    assert len(starts.read_text().split()) == 2  # started, restarted once, never again


def test_faults_cost_the_tool_not_the_session(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                             tmp_path: Path) -> None:
    user_config(tmp_path, faults_toml() + faults_toml("stuck", FAULT_STARTUP="hang")
                + faults_toml("gone", FAULT_STARTUP="exit")
                + '[mcp]\nstartup_timeout_s = 10\ncall_timeout_s = 2\n'
                + '[agent]\nmax_tool_result_chars = 5000\n')
    fake_messages_api.add(Reply([ToolUse("mcp__faults__huge", {"n": 3_000_000})]),
                          Reply([ToolUse("mcp__faults__hang")]), Reply([ToolUse("mcp__faults__ping")]),
                          Reply.text("done"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "--yes", "try them")
    assert result.returncode == 0, result.stderr
    names = tool_names(fake_messages_api)
    assert "mcp__faults__ping" in names
    assert "mcp__faults__broken_schema" not in names  # the API would refuse every request with it
    assert not [n for n in names if n.startswith(("mcp__stuck", "mcp__gone"))]
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert any("'stuck'" in n and "did not start within 10 s" in n for n in notes), notes
    assert any("'gone'" in n and "refusing to start" in n for n in notes), notes
    huge, hang, ping = results_sent(fake_messages_api)
    assert len(result_text(huge)) <= 5_000
    assert "omitted from the middle" in result_text(huge)
    assert hang["is_error"]
    assert "did not answer within 2 s" in result_text(hang)
    assert result_text(ping) == "pong"  # the server survived the timed-out call


@needs_everything
def test_images_and_resources_reach_the_model(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                             tmp_path: Path) -> None:
    user_config(tmp_path, f'[mcp.servers.every]\ncommand = "{EVERYTHING}"\n[mcp]\nallow = ["mcp__every"]\n')
    fake_messages_api.add(Reply([ToolUse("mcp__every__get-tiny-image")]),
                          Reply([ToolUse("mcp__every__get-resource-reference", {"resourceType": "Text",
                                                                                 "resourceId": 1})]),
                          Reply.text("seen"))
    result = agentls(fake_messages_api, tmp_path, "run", "--workspace", str(repo), "look at it")
    assert result.returncode == 0, result.stderr
    image, resource = results_sent(fake_messages_api)
    kinds = [block["type"] for block in image["content"]]
    assert "image" in kinds, image
    picture = next(block for block in image["content"] if block["type"] == "image")
    assert picture["source"]["media_type"] == "image/png"
    assert len(picture["source"]["data"]) > 100
    assert "resource" in result_text(resource)
    assert "://" in result_text(resource)


def test_agentls_mcp_list_shows_where_and_what(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                               tmp_path: Path) -> None:
    user_config(tmp_path, faults_toml() + '[mcp.servers.off]\ncommand = "nothing"\nenabled = false\n')
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"bad": {"args": ["x"]}}}))
    listed = agentls(fake_messages_api, tmp_path, "mcp", "list", "--workspace", str(repo))
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert "faults  (user settings)  running" in out
    assert "ping" in out
    assert "write_note" in out
    assert "off  (user settings)  disabled" in out
    assert "bad  (.mcp.json)  invalid" in out
    env = {**os.environ, "AGENTLS_DATA_DIR": str(tmp_path / "data")}
    bare = subprocess.run([sys.executable, "-m", "agentls", "mcp"], capture_output=True, text=True, env=env,
                          check=False)
    assert bare.returncode == 2
    assert "say list" in bare.stderr
    assert git(repo, "status", "--porcelain")  # untouched: the repo fixture's changes are still there


def test_doctor_reports_broken_and_waiting_servers(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                   tmp_path: Path) -> None:
    user_config(tmp_path, faults_toml() + faults_toml("gone", FAULT_STARTUP="exit"))
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"theirs": {"command": "true"}}}))
    result = agentls(fake_messages_api, tmp_path, "doctor", "--json", "--workspace", str(repo))
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["mcp faults"]["status"] == "ok"
    assert "tools" in checks["mcp faults"]["detail"]
    assert checks["mcp gone"]["status"] == "missing"
    assert "refusing to start" in checks["mcp gone"]["detail"]
    assert checks["mcp theirs"]["status"] == "warning"
    assert checks["mcp theirs"]["hint"] == "agentls mcp trust theirs"
