"""Task plans from the editor: ``agentls.plan*`` against a real ``agentls serve``, the fake Messages API,
a real git workspace. The test client presents itself as Neovim or VS Code."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import CLIENTS, RecordingClient, _plain, open_document, start
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
    session_key,
    step_scripts,
    three_steps,
)
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply, ToolUse


@dataclass
class Editor:
    client: RecordingClient
    fake: FakeMessagesAPI
    root: Path
    updates: list[dict[str, Any]] = field(default_factory=list)

    async def command(self, name: str, args: dict[str, Any]) -> Any:
        result = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[args]))
        return _plain(result)

    async def until(self, plan_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
        def latest() -> dict[str, Any] | None:
            for update in reversed(self.updates):
                if update["id"] == plan_id:
                    return update if update["status"] == status and not update["running"] else None
            return None

        return await self.client.wait_until(latest, timeout)  # type: ignore[no-any-return]


async def _editor(name: str, tmp_path: Path, fake: FakeMessagesAPI, settings: dict[str, Any] | None = None,
                  home: str = "home") -> Editor:
    root = tmp_path / "project"
    if not root.exists():
        make_project(root)
    env = {**fake.env(), "AGENTLS_MODEL__RETRY__BASE_DELAY_S": "0.01"}
    client, _ = await start(name, root, tmp_path / home, env=env,
                            initialization_options={"inlineProposals": True, "settings": settings or {}})
    editor = Editor(client, fake, root)

    @client.feature("agentls/planUpdated")
    def plan_updated(params: Any) -> None:
        editor.updates.append(_plain(params))

    return editor


@pytest_asyncio.fixture(params=CLIENTS)
async def editor(request: pytest.FixtureRequest, tmp_path: Path,
                 fake_messages_api: FakeMessagesAPI) -> AsyncIterator[Editor]:
    editor = await _editor(request.param, tmp_path, fake_messages_api)
    yield editor
    await editor.client.shutdown_session()
    await editor.client.stop()


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


async def test_plan_review_run_status_and_rollback(editor: Editor) -> None:
    editor.fake.add(*architect_script(three_steps()))
    plan = await editor.command("agentls.plan", {"instruction": "add sub, a bounded add and tests",
                                                 "autoApply": True})
    plan_id = plan["id"]
    assert [s["id"] for s in plan["steps"]] == ["1", "2", "3"]
    assert plan["status"] == "draft"
    assert plan["planningCostUsd"] > 0
    assert files(editor.root) == {"README.md": "calc\n", "calc.py": CALC}
    # The plan was shown as a document the user can edit before running it.
    document = Path(plan["document"])
    assert [d.uri for d in editor.client.shown_documents] == [document.as_uri()]
    assert "## 3. Test the calculator" in document.read_text()
    document.write_text(document.read_text().replace("Add tests/test_calc.py.", "Add one test module."))

    editor.fake.respond_with(routed(step_scripts()))
    started = await editor.command("agentls.plan.execute", {"planId": plan_id})
    assert started == {"planId": plan_id, "status": "running", "steps": ["1", "2", "3"]}
    done = await editor.until(plan_id, "done")
    assert [s["status"] for s in done["steps"]] == ["done", "done", "done"]
    assert files(editor.root) == {"README.md": "calc\n", "calc.py": CALC_2, "util.py": UTIL,
                                  "tests/test_calc.py": TEST}
    step3 = [r for r in editor.fake.message_requests if session_key(r) == "3"]
    assert "Add one test module." in json.dumps(step3[0].body)  # the user's edit of the document
    # Each step's state was announced as it changed.
    states = [(u["steps"][1]["status"]) for u in editor.updates if u["id"] == plan_id]
    assert "running" in states
    assert states.index("running") < states.index("done")

    status = await editor.command("agentls.plan.status", {"planId": plan_id, "logs": True})
    for step in status["steps"]:
        assert step["execution"]["status"] == "done"
        assert step["execution"]["costUsd"] > 0
        assert step["execution"]["checkpointBefore"]
    assert status["costUsd"] > 0
    assert any("step 2 done" in log["message"] for log in status["logs"])
    titles = [r.title for reports in editor.client.progress_reports.values() for r in reports
              if isinstance(r, types.WorkDoneProgressBegin)]
    assert any(t.startswith(f"agentls plan {plan_id}") for t in titles)
    assert "agentls plan step 2: Add bounded_add() with a clamp helper" in titles

    listed = await editor.command("agentls.plan.list", {})
    assert listed[0]["id"] == plan_id
    assert listed[0]["done"] == 3

    back = await editor.command("agentls.plan.rollback", {"planId": plan_id, "toStep": "2"})
    assert files(editor.root) == {"README.md": "calc\n", "calc.py": CALC_1}
    assert back["steps"] == ["2", "3"]
    assert back["safetyCheckpoint"]
    after = await editor.command("agentls.plan.status", {"planId": plan_id})
    assert [s["status"] for s in after["steps"]] == ["done", "pending", "pending"]


async def test_review_mode_waits_for_the_user_to_accept(editor: Editor) -> None:
    steps = [{"id": "1", "title": "Add sub()", "description": "", "files": ["calc.py"]}]
    editor.fake.add(*architect_script(steps))
    plan = await editor.command("agentls.plan", {"instruction": "add sub", "show": False})
    assert editor.client.shown_documents == []
    editor.fake.respond_with(routed({"1": step_scripts()["1"]}))
    await editor.command("agentls.plan.execute", {"planId": plan["id"]})
    await editor.client.wait_until(lambda: editor.client.proposals, timeout=30)
    proposal = editor.client.proposals[0]
    assert proposal["path"] == "calc.py"
    status = await editor.command("agentls.plan.status", {"planId": plan["id"]})
    assert status["steps"][0]["status"] == "review"
    assert files(editor.root)["calc.py"] == CALC  # nothing applied before the user accepts
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    done = await editor.until(plan["id"], "done")
    assert done["steps"][0]["execution"]["files"] == ["calc.py"]
    assert files(editor.root)["calc.py"] == CALC_1


async def test_a_failed_step_asks_the_user_and_skip_lets_dependants_run(editor: Editor) -> None:
    editor.fake.add(*architect_script(three_steps()))
    plan = await editor.command("agentls.plan", {"instruction": "x", "autoApply": True, "show": False})
    scripts = step_scripts()
    scripts["1"] = [Reply.text("no", stop_reason="refusal")]
    editor.fake.respond_with(routed(scripts))
    editor.client.message_answer = "Skip"
    await editor.command("agentls.plan.execute", {"planId": plan["id"]})
    done = await editor.until(plan["id"], "done")
    assert [s["status"] for s in done["steps"]] == ["skipped", "done", "done"]
    asked = editor.client.message_requests
    assert len(asked) == 1
    assert "step 1 (Add sub()) failed" in asked[0].message
    assert [a.title for a in asked[0].actions or []] == ["Retry", "Skip", "Edit plan", "Roll back", "Stop"]


async def test_auto_apply_never_overwrites_unsaved_editor_changes(editor: Editor) -> None:
    steps = [{"id": "1", "title": "Add sub()", "description": "", "files": ["calc.py"]},
             {"id": "2", "title": "Then", "files": ["util.py"], "depends_on": ["1"]}]
    editor.fake.add(*architect_script(steps))
    plan = await editor.command("agentls.plan", {"instruction": "x", "autoApply": True, "show": False})
    open_document(editor.client, editor.root / "calc.py", "python", CALC + "# typing...\n")
    editor.fake.respond_with(routed({"1": step_scripts()["1"]}))
    await editor.command("agentls.plan.execute", {"planId": plan["id"], "onFailure": "stop"})
    failed = await editor.until(plan["id"], "failed")
    assert [s["status"] for s in failed["steps"]] == ["failed", "blocked"]
    assert "calc.py has unsaved changes in the editor" in failed["steps"][0]["execution"]["error"]
    assert files(editor.root)["calc.py"] == CALC
    with pytest.raises(JsonRpcException, match="step 2 needs step 1, which is failed"):
        await editor.command("agentls.plan.execute", {"planId": plan["id"]})


async def test_bad_requests(editor: Editor) -> None:
    with pytest.raises(JsonRpcException, match="'instruction'"):
        await editor.command("agentls.plan", {})
    with pytest.raises(JsonRpcException, match="no plan 'nope'"):
        await editor.command("agentls.plan.status", {"planId": "nope"})
    with pytest.raises(JsonRpcException, match="action"):
        await editor.command("agentls.plan.decide", {"planId": "p", "stepId": "1", "action": "dance"})


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_a_restart_mid_plan_reports_the_interrupted_step(client_name: str, tmp_path: Path,
                                                                fake_messages_api: FakeMessagesAPI) -> None:
    first = await _editor(client_name, tmp_path, fake_messages_api)
    fake_messages_api.add(*architect_script(three_steps()))
    plan = await first.command("agentls.plan", {"instruction": "x", "autoApply": True, "show": False})
    scripts = step_scripts()
    scripts["1"] = [Fault.delay(60, then=Reply.text("too late"))]
    fake_messages_api.respond_with(routed(scripts))
    await first.command("agentls.plan.execute", {"planId": plan["id"]})
    await first.client.wait_until(lambda: any(session_key(r) == "1" for r in fake_messages_api.message_requests),
                                  timeout=30)
    server = first.client._server
    assert server is not None
    server.kill()  # the editor (or the machine) went away mid-step
    await server.wait()
    await first.client.stop()

    second = await _editor(client_name, tmp_path, fake_messages_api)
    try:
        status = await second.command("agentls.plan.status", {"planId": plan["id"], "logs": True})
        assert status["status"] == "interrupted"
        assert [s["status"] for s in status["steps"]] == ["interrupted", "pending", "pending"]
        assert status["steps"][0]["execution"]["status"] == "interrupted"
        assert any("step 1 was interrupted" in log["message"] for log in status["logs"])
        listed = await second.command("agentls.plan.list", {})
        assert listed[0]["status"] == "interrupted"
        # Never re-run by itself: running the plan without naming the step is refused.
        with pytest.raises(JsonRpcException, match="step 2 needs step 1, which is interrupted"):
            await second.command("agentls.plan.execute", {"planId": plan["id"]})
        assert sum(1 for r in fake_messages_api.message_requests if session_key(r) == "1") == 1
        # Named, it runs again.
        fake_messages_api.respond_with(routed(step_scripts()))
        await second.command("agentls.plan.execute", {"planId": plan["id"], "steps": ["1", "2", "3"]})
        done = await second.until(plan["id"], "done")
        assert done["steps"][0]["attempts"] == 2
        assert files(second.root)["calc.py"] == CALC_2
    finally:
        await second.client.shutdown_session()
        await second.client.stop()


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_a_graceful_shutdown_mid_plan_records_the_step_as_interrupted(
        client_name: str, tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    first = await _editor(client_name, tmp_path, fake_messages_api)
    fake_messages_api.add(*architect_script(three_steps()))
    plan = await first.command("agentls.plan", {"instruction": "x", "autoApply": True, "show": False})
    scripts = step_scripts()
    scripts["1"] = [Fault.delay(60, then=Reply.text("too late"))]
    fake_messages_api.respond_with(routed(scripts))
    await first.command("agentls.plan.execute", {"planId": plan["id"]})
    await first.client.wait_until(lambda: any(session_key(r) == "1" for r in fake_messages_api.message_requests),
                                  timeout=30)
    await first.client.shutdown_session()  # the editor quits normally while step 1 runs
    await first.client.stop()

    second = await _editor(client_name, tmp_path, fake_messages_api)
    try:
        status = await second.command("agentls.plan.status", {"planId": plan["id"], "logs": True})
        assert status["status"] == "interrupted"
        assert [s["status"] for s in status["steps"]] == ["interrupted", "pending", "pending"]
        assert status["steps"][0]["execution"]["status"] == "interrupted"
        assert "the server shut down" in status["steps"][0]["execution"]["error"]
        # An interruption, not a user's cancel: running the plan without naming the step is refused.
        with pytest.raises(JsonRpcException, match="step 2 needs step 1, which is interrupted"):
            await second.command("agentls.plan.execute", {"planId": plan["id"]})
        assert sum(1 for r in fake_messages_api.message_requests if session_key(r) == "1") == 1
    finally:
        await second.client.shutdown_session()
        await second.client.stop()


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_auto_apply_commands_never_write_over_unsaved_editor_changes(
        client_name: str, tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    from agentls.agent.tools.run_command import sandbox_problem

    problem = await sandbox_problem()
    if problem is not None:
        pytest.skip(problem)
    command = f"{shlex.quote(sys.executable)} -c pass"
    editor = await _editor(client_name, tmp_path, fake_messages_api,
                           settings={"tools": {"run_command": {"enabled": True, "allow": [command]}}})
    try:
        steps = [{"id": "1", "title": "Add sub()", "description": "", "files": ["calc.py"]}]
        editor.fake.add(*architect_script(steps))
        plan = await editor.command("agentls.plan", {"instruction": "x", "autoApply": True, "show": False})
        open_document(editor.client, editor.root / "calc.py", "python", CALC + "# typing...\n")
        script = [Reply([edit("str_replace", path="calc.py", old_str="    return a + b\n",
                              new_str="    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")]),
                  Reply([ToolUse("run_command", {"command": command})]),  # writes pending edits to disk first
                  Reply.text("Added sub().")]
        editor.fake.respond_with(routed({"1": script}))
        await editor.command("agentls.plan.execute", {"planId": plan["id"], "onFailure": "stop"})
        failed = await editor.until(plan["id"], "failed")
        assert files(editor.root)["calc.py"] == CALC  # neither the command nor the apply wrote over it
        assert "calc.py has unsaved changes in the editor" in failed["steps"][0]["execution"]["error"]
        ran = [r for r in editor.fake.message_requests if session_key(r) == "1"][2]
        result = next(b for b in ran.body["messages"][-1]["content"] if b["type"] == "tool_result")
        assert result["is_error"]
        assert "changed on disk" in json.dumps(result["content"])
    finally:
        await editor.client.shutdown_session()
        await editor.client.stop()
