"""``agentls plan`` as a user runs it: a subprocess, the fake Messages API, a real git workspace.

The "done when" path from the CLI: ask for a three-step change, review (and edit) the plan, run
it, see each step's status and cost, roll back to step 2 and find the files exactly as they were
before step 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.plan_scripts import (
    CALC,
    CALC_1,
    CALC_2,
    TEST,
    UTIL,
    architect_script,
    edit,
    make_project,
    routed,
    step_scripts,
    three_steps,
)
from tests.fakes.messages_api import FakeMessagesAPI, Reply


def agentls(fake: FakeMessagesAPI, home: Path, *args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    full.update(fake.env(), XDG_CONFIG_HOME=str(home / "config"), AGENTLS_DATA_DIR=str(home / "data"),
                AGENTLS_MODEL__RETRY__BASE_DELAY_S="0.01", **(env or {}))
    return subprocess.run([sys.executable, "-m", "agentls", *args], capture_output=True, text=True, env=full,
                          timeout=180, check=False, input=stdin if stdin is not None else "")


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def test_plan_review_run_status_and_rollback_to_step_2(fake_messages_api: FakeMessagesAPI, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    fake_messages_api.add(*architect_script(three_steps()))
    drafted = agentls(fake_messages_api, tmp_path, "plan", "--workspace", str(root), "--json",
                      "add sub, a bounded add and tests")
    assert drafted.returncode == 0, drafted.stderr
    plan = json.loads(drafted.stdout)
    plan_id = plan["id"]
    assert [s["id"] for s in plan["steps"]] == ["1", "2", "3"]
    assert plan["steps"][1]["dependsOn"] == ["1"]
    assert plan["steps"][2]["role"] == "tester"
    assert all(s["status"] == "pending" for s in plan["steps"])
    assert files(root) == {"README.md": "calc\n", "calc.py": CALC}  # plan mode wrote nothing

    # The plan is shown as a document the user can edit before running it.
    shown = agentls(fake_messages_api, tmp_path, "plan", "show", plan_id, "--workspace", str(root))
    assert shown.returncode == 0, shown.stderr
    assert "## 2. Add bounded_add() with a clamp helper" in shown.stdout
    assert "- depends on: 1" in shown.stdout
    document = Path(plan["document"])
    text = document.read_text()
    assert text == shown.stdout.rstrip() + "\n"
    document.write_text(text.replace("Add tests/test_calc.py.", "Add tests/test_calc.py with one test."))

    fake_messages_api.respond_with(routed(step_scripts()))
    ran = agentls(fake_messages_api, tmp_path, "plan", "run", plan_id, "--workspace", str(root))
    assert ran.returncode == 0, ran.stderr
    assert "read your edits" in ran.stderr
    assert files(root) == {"README.md": "calc\n", "calc.py": CALC_2, "util.py": UTIL, "tests/test_calc.py": TEST}
    # The edited description reached step 3's session.
    step3 = [r for r in fake_messages_api.message_requests if "Your step: 3." in json.dumps(r.body)]
    assert "Add tests/test_calc.py with one test." in json.dumps(step3[0].body)
    # Steps ran in dependency order, one session each.
    order = [line.split()[1] for line in ran.stderr.splitlines() if line.startswith("step ") and " running:" in line]
    assert order == ["1", "2", "3"]

    status = json.loads(agentls(fake_messages_api, tmp_path, "plan", "show", plan_id, "--workspace", str(root),
                                "--json").stdout)
    assert status["status"] == "done"
    assert [s["status"] for s in status["steps"]] == ["done", "done", "done"]
    for step in status["steps"]:
        assert step["execution"]["costUsd"] > 0
        assert step["execution"]["tokens"]["input"] > 0
        assert step["execution"]["checkpointBefore"]
    assert status["steps"][1]["execution"]["files"] == ["calc.py", "util.py"]
    assert status["costUsd"] >= sum(s["costUsd"] for s in status["steps"]) > 0
    assert any("step 3 done" in log["message"] for log in status["logs"])
    table = agentls(fake_messages_api, tmp_path, "plan", "show", plan_id, "--workspace", str(root))
    assert "- status: done · " in table.stdout
    assert "$0." in table.stdout

    back = agentls(fake_messages_api, tmp_path, "plan", "rollback", plan_id, "2", "--workspace", str(root))
    assert back.returncode == 0, back.stderr
    assert files(root) == {"README.md": "calc\n", "calc.py": CALC_1}  # exactly as before step 2
    assert "steps 2, 3 are pending" in back.stdout
    after = json.loads(agentls(fake_messages_api, tmp_path, "plan", "show", plan_id, "--workspace", str(root),
                               "--json").stdout)
    assert [s["status"] for s in after["steps"]] == ["done", "pending", "pending"]

    listed = agentls(fake_messages_api, tmp_path, "plan", "list", "--workspace", str(root))
    assert plan_id in listed.stdout

    # Running again resumes at step 2.
    rerun = agentls(fake_messages_api, tmp_path, "plan", "run", plan_id, "--workspace", str(root))
    assert rerun.returncode == 0, rerun.stderr
    assert files(root)["calc.py"] == CALC_2


def test_a_failed_step_blocks_its_dependants_and_says_how_to_go_on(fake_messages_api: FakeMessagesAPI,
                                                                 tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    fake_messages_api.add(*architect_script(three_steps()))
    plan = json.loads(agentls(fake_messages_api, tmp_path, "plan", "--workspace", str(root), "--json", "task").stdout)
    scripts = step_scripts()
    scripts["2"] = [Reply([edit("str_replace", path="calc.py", old_str="no such text", new_str="x")]),
                    Reply.text("I could not do it.", stop_reason="refusal")]
    fake_messages_api.respond_with(routed(scripts))
    ran = agentls(fake_messages_api, tmp_path, "plan", "run", plan["id"], "--workspace", str(root))
    assert ran.returncode == 1
    assert "step 2 failed" in ran.stderr
    assert f"agentls plan run {plan['id']} --step 2" in ran.stderr
    status = json.loads(agentls(fake_messages_api, tmp_path, "plan", "show", plan["id"], "--workspace", str(root),
                                "--json").stdout)
    assert [s["status"] for s in status["steps"]] == ["done", "failed", "blocked"]
    assert status["status"] == "failed"
    assert files(root)["calc.py"] == CALC_1  # step 1 applied, step 2 wrote nothing
    assert "tests/test_calc.py" not in files(root)
    assert not any("Your step: 3." in json.dumps(r.body) for r in fake_messages_api.message_requests)

    # Retry the failed step: it runs again, then its dependant.
    scripts["2"] = step_scripts()["2"]
    fake_messages_api.respond_with(routed(scripts))
    retry = agentls(fake_messages_api, tmp_path, "plan", "run", plan["id"], "--step", "2", "--step", "3",
                    "--workspace", str(root))
    assert retry.returncode == 0, retry.stderr
    assert files(root)["calc.py"] == CALC_2


def test_usage_errors(fake_messages_api: FakeMessagesAPI, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    assert agentls(fake_messages_api, tmp_path, "plan", "--workspace", str(root)).returncode == 2
    assert agentls(fake_messages_api, tmp_path, "plan", "show", "--workspace", str(root)).returncode == 2
    missing = agentls(fake_messages_api, tmp_path, "plan", "show", "nope", "--workspace", str(root))
    assert missing.returncode == 1
    assert "no plan 'nope'" in missing.stderr
    assert fake_messages_api.requests == []
