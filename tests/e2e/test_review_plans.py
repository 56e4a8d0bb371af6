"""A plan step reviewed in the editor is done only when its changes were accepted: never while one is
unresolved, and not when the user rejected them (the step fails and the user decides)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.plan_scripts import CALC, architect_script, routed, step_scripts
from tests.e2e.test_plans_lsp import _editor, files
from tests.fakes.messages_api import FakeMessagesAPI


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_a_rejected_change_does_not_make_the_step_done(client_name: str, tmp_path: Path,
                                                            fake_messages_api: FakeMessagesAPI) -> None:
    editor = await _editor(client_name, tmp_path, fake_messages_api)
    try:
        steps = [{"id": "1", "title": "Add sub()", "description": "", "files": ["calc.py"]}]
        editor.fake.add(*architect_script(steps))
        plan = await editor.command("agentls.plan", {"instruction": "add sub", "show": False})
        editor.fake.respond_with(routed({"1": step_scripts()["1"]}))
        editor.client.message_answer = "Stop"
        await editor.command("agentls.plan.execute", {"planId": plan["id"]})
        await editor.client.wait_until(lambda: editor.client.proposals, timeout=30)
        proposal = editor.client.proposals[0]
        await editor.command("agentls.reject", {"proposalId": proposal["id"]})
        asked = await editor.client.wait_until(lambda: editor.client.message_requests, timeout=30)
        assert "calc.py" in asked[0].message
        assert "rejected" in asked[0].message
        status = await editor.command("agentls.plan.status", {"planId": plan["id"]})
        assert status["steps"][0]["status"] != "done"
        assert files(editor.root)["calc.py"] == CALC
    finally:
        await editor.client.shutdown_session()
        await editor.client.stop()
