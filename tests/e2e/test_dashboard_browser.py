"""The War Room in a real Chromium (Debian's, driven by Playwright's client as the VS Code tests are): a session
run by ``agentls run`` in another process appears live and ends, its change shows as a diff, a plan's graph
updates as a step finishes, and a checkpoint is restored from the page (the files change on disk).

Needs node, /usr/bin/chromium and playwright-core (``bash scripts/vscode-e2e-setup`` installs them); skipped
without them, except in CI (``CI`` set), where it must run. Screenshots go to the test's tmp dir
(``dashboard-shots``)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentls.dashboard.codes import KEY_ENV, mint
from agentls.store.db import Store
from agentls.store.plans import PlanStore, StepRow
from tests.e2e.dashboard_harness import dashboard, env_for
from tests.e2e.test_headless import SCRIPT, repo  # noqa: F401  (the fixture)
from tests.fakes.messages_api import FakeMessagesAPI, Fault

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).parent / "dashboard" / "drive.mjs"
PLAYWRIGHT = ROOT / "clients" / "vscode" / "e2e" / "node_modules" / "playwright-core" / "index.mjs"
CHROMIUM = Path("/usr/bin/chromium")
NODE = shutil.which("node")
MISSING = [what for what, ok in (("node", NODE), ("/usr/bin/chromium", CHROMIUM.exists()),
                                 ("playwright-core (bash scripts/vscode-e2e-setup)", PLAYWRIGHT.exists())) if not ok]
pytestmark = pytest.mark.skipif(bool(MISSING) and not os.environ.get("CI"),
                                reason=f"no browser to drive: missing {', '.join(MISSING)}")


def test_watch_a_session_live_review_its_change_follow_a_plan_and_restore_a_checkpoint(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    home = tmp_path / "home"
    home.mkdir()
    shots = tmp_path / "dashboard-shots"
    shots.mkdir()
    workspace = str(repo.resolve())
    (repo / "AGENTS.md").write_text("# Notes for agents\n\nUse type hints everywhere.\n")
    store = Store(home / "data" / "agentls.db")
    plans = PlanStore(store)
    plan_id = plans.create(workspace, "type the project", "Type hints, then tests", [
        StepRow("1", 0, None, "Add type hints", files=["calc.py"]),
        StepRow("2", 1, None, "Write tests", depends_on=["1"], verify="pytest -q"),
        StepRow("3", 2, None, "Update the docs", depends_on=["1"]),
        StepRow("4", 3, None, "Run everything", depends_on=["2", "3"]),
    ])
    plans.start_execution(plan_id, "1", "coder")
    # The session's first answer comes after 4 s: the page must show it running, then its end.
    fake_messages_api.add(Fault.delay(4.0, then=SCRIPT[0]), *SCRIPT[1:])
    env = env_for(home, {**fake_messages_api.env(), "AGENTLS_MODEL__RETRY__BASE_DELAY_S": "0.01"})
    indexed = subprocess.run([sys.executable, "-m", "agentls", "context", "calc.py", "--workspace", workspace],
                             capture_output=True, text=True, env=env, timeout=120, check=False)  # the explorer's index
    assert indexed.returncode == 0, indexed.stderr
    key = secrets.token_bytes(32)  # as the language server does: it signs the one-time links editors open
    with dashboard(home, env=env_for(home, {KEY_ENV: key.hex()})) as board:
        signin = f"{board.base}/?code={mint(key)}"
        driver = subprocess.Popen(
            [NODE or "node", str(DRIVER), board.url, str(shots), workspace, plan_id, signin], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PLAYWRIGHT_CORE": str(PLAYWRIGHT),
                                                       "CHROMIUM": str(CHROMIUM)})
        agent = subprocess.Popen([sys.executable, "-m", "agentls", "run", "add type hints", "--workspace",
                                  workspace, "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, stdin=subprocess.DEVNULL)
        result: dict = {}  # type: ignore[type-arg]
        lines: list[str] = []
        hinted = ""
        assert driver.stdout is not None
        try:
            for line in driver.stdout:
                lines.append(line.rstrip())
                if line.startswith("plan-open"):  # the page shows the plan: step 1 ends, step 2 starts
                    execution = plans.executions(plan_id, "1")[0]
                    execution.status, execution.ended = "done", execution.started + 12
                    plans.save_execution(execution)
                    plans.set_step_status(plan_id, ["1"], "done")
                    plans.start_execution(plan_id, "2", "coder")
                elif line.startswith("restored"):
                    hinted = (repo / "calc.py").read_text()
                elif line.startswith("result "):
                    result = json.loads(line[7:])
            driver.wait(60)
            _, agent_err = agent.communicate(timeout=60)
        finally:
            for process in (driver, agent):
                if process.poll() is None:
                    process.kill()
                    process.wait()
        store.close()
    assert agent.returncode == 0, agent_err
    assert "error" not in result, "\n".join(lines) + f"\nscreenshots in {shots}"
    assert result["liveSpinner"] == 1
    kinds = result["timelineKinds"]
    assert kinds[0] == "instruction"
    assert "ToolCalled" in kinds
    assert "SessionEnded" in kinds
    assert "def add(a: int, b: int) -> int:" in result["diffText"]
    assert result["statusAfter"] == "completed"
    assert result["planSteps"] == 4
    assert "calc.py" in result["restoreText"]
    assert hinted == "def add(a, b):\n    return a + b\n"  # the page's restore reached the disk
    assert result["errors"] == []
    assert result["signedInWithCode"] is True
    assert result["codeReusedStatus"] == 401
    for name in ("sessions-live", "session", "plan", "checkpoints-confirm", "checkpoints-restored", "usage",
                 "health", "memory", "explorer", "plans", "sessions-dark", "session-narrow"):
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
