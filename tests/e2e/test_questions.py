"""Questions for the user, end to end: the agent host asks, the editor's user answers (``window/showMessageRequest``
or ``agentls.answer``), the answer reaches the session in the host; the CLI asks on a real terminal."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.e2e.harness import RecordingClient, _plain, start
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse

SETTINGS = {"tools": {"run_command": {"enabled": True, "allow": ["git status"], "allow_unsandboxed": True}}}


def tool_results(fake: FakeMessagesAPI) -> list[dict[str, Any]]:
    """Every tool result the model got, in order."""
    return [block for request in fake.message_requests for message in request.body["messages"][-1:]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"] if block["type"] == "tool_result"]


def text_of(result: dict[str, Any]) -> str:
    content = result["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


@pytest_asyncio.fixture
async def client(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> AsyncIterator[RecordingClient]:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    client, _ = await start("neovim", root, tmp_path / "home", env=fake_messages_api.env(),
                            initialization_options={"settings": SETTINGS})
    yield client
    await client.shutdown_session()
    await client.stop()


async def run_task(client: RecordingClient, fake: FakeMessagesAPI, *replies: Reply) -> None:
    fake.add(*replies)
    done = len(fake.message_requests) + len(replies)
    _plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="agentls.task", arguments=[{"instruction": "say hello"}])))
    await client.wait_until(lambda: len(fake.message_requests) >= done, timeout=30)


@pytest.mark.parametrize(("answer", "ran"), [("Run once", True), ("Don't run", False), (None, False)])
async def test_a_command_outside_the_allowed_patterns_runs_only_if_the_user_approves(
        client: RecordingClient, fake_messages_api: FakeMessagesAPI, answer: str | None, ran: bool) -> None:
    client.message_answer = answer
    await run_task(client, fake_messages_api, Reply([ToolUse("run_command", {"command": "echo approved"})]),
                   Reply.text("done"))
    asked = client.message_requests[0]
    assert "echo approved" in asked.message
    assert [a.title for a in asked.actions or []] == ["Run once", "Allow for this session", "Don't run"]
    result = tool_results(fake_messages_api)[0]
    if ran:
        assert not result.get("is_error")
        assert "approved" in text_of(result)
    else:
        assert result["is_error"]
        assert "the user did not approve 'echo approved'" in text_of(result)


async def test_allowed_for_the_session_is_asked_once_and_allowed_patterns_never(
        client: RecordingClient, fake_messages_api: FakeMessagesAPI) -> None:
    client.message_answer = "Allow for this session"
    call = Reply([ToolUse("run_command", {"command": "echo again"})])
    await run_task(client, fake_messages_api, call, call, Reply([ToolUse("run_command", {"command": "git status"})]),
                   Reply.text("done"))
    assert len(client.message_requests) == 1
    results = tool_results(fake_messages_api)
    assert all("again" in text_of(r) and not r.get("is_error") for r in results[:2])
    assert "not approve" not in text_of(results[2])  # allowed by the settings: run without asking


async def test_a_client_may_answer_with_agentls_answer_instead_of_the_dialog(
        client: RecordingClient, fake_messages_api: FakeMessagesAPI) -> None:
    questions: list[dict[str, Any]] = []

    @client.feature("agentls/question")
    def question(params: Any) -> None:
        questions.append(_plain(params))

    client.hold_message_requests = asyncio.Event()  # the user ignores the dialog; the client's own UI answers
    fake_messages_api.add(Reply([ToolUse("run_command", {"command": "echo from-ui"})]), Reply.text("done"))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="agentls.task", arguments=[{"instruction": "say hello"}]))
    await client.wait_until(lambda: questions, timeout=30)
    asked = questions[0]
    assert asked["topic"] == "command"
    assert asked["subject"] == {"command": "echo from-ui"}
    assert [o["kind"] for o in asked["options"]] == ["allow_once", "allow_always", "reject_once"]
    bad = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="agentls.answer", arguments=[{"questionId": asked["id"], "optionId": "maybe"}]))
    assert _plain(bad) == {"accepted": False}
    good = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="agentls.answer", arguments=[{"questionId": asked["id"], "optionId": "once"}]))
    assert _plain(good) == {"accepted": True}
    await client.wait_until(lambda: len(fake_messages_api.message_requests) >= 2, timeout=30)
    assert "from-ui" in text_of(tool_results(fake_messages_api)[0])
    client.message_answer = "Don't run"
    client.hold_message_requests.set()  # the late answer to the dialog changes nothing
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="agentls.usage", arguments=[{}]))
    assert "from-ui" in text_of(tool_results(fake_messages_api)[0])


def test_the_cli_asks_on_the_terminal_and_takes_the_answer(fake_messages_api: FakeMessagesAPI,
                                                           tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    user_config = tmp_path / "config" / "agentls" / "config.toml"  # the user's own: a workspace's needs trust
    user_config.parent.mkdir(parents=True)
    user_config.write_text('[tools.run_command]\nenabled = true\nallow_unsandboxed = true\n')
    fake_messages_api.add(Reply([ToolUse("run_command", {"command": "echo on-a-tty"})]), Reply.text("done"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(fake_messages_api.env(), XDG_CONFIG_HOME=str(tmp_path / "config"),
               AGENTLS_DATA_DIR=str(tmp_path / "data"), TERM="dumb")
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "agentls", "run", "--workspace", str(root), "--json",
                                "say hello"], stdin=secondary, stdout=subprocess.PIPE, stderr=secondary, env=env)
    os.close(secondary)
    seen = b""
    try:
        while b"[D]on't run?" not in seen:
            ready, _, _ = select.select([primary], [], [], 60)
            assert ready, f"no prompt on the terminal; it showed: {seen.decode(errors='replace')}"
            seen += os.read(primary, 4096)
        assert b"The agent wants to run: echo on-a-tty" in seen
        os.write(primary, b"r\n")
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        os.close(primary)
    assert json.loads(out)["status"] == "completed"  # stdout is the result alone: the prompt went to the terminal
    assert "on-a-tty" in text_of(tool_results(fake_messages_api)[0])
    assert not tool_results(fake_messages_api)[0].get("is_error")
