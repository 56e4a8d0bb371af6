"""MCP tools over LSP: the agent host starts the servers; the editor's user trusts a workspace's server and
approves a tool that changes things through ``window/showMessageRequest``; an inline edit uses a tool of a
server from the editor's settings; what kept a server out is one warning, once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.e2e.harness import RecordingClient
from tests.e2e.test_inline_edits import _editor, edit
from tests.e2e.test_mcp import FAULTS, result_text
from tests.e2e.test_questions import client, run_task  # noqa: F401 - the fixture
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse


def sent_results(fake: FakeMessagesAPI) -> list[dict[str, Any]]:
    return [block for message in fake.message_requests[-1].body["messages"]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"]


def declare(root: Path, **env: str) -> None:
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"faults": {
        "command": sys.executable, "args": [str(FAULTS)], "env": env}}}))


def warnings(lsp: RecordingClient) -> list[str]:
    return [m.message for m in lsp.messages if m.type == types.MessageType.Warning]


async def test_the_editor_asks_to_trust_a_workspace_server_once(client: RecordingClient,  # noqa: F811
                                                                 fake_messages_api: FakeMessagesAPI,
                                                                 tmp_path: Path) -> None:
    declare(tmp_path / "project")
    client.message_answer = "Trust and start"
    await run_task(client, fake_messages_api, Reply([ToolUse("mcp__faults__ping")]), Reply.text("pong"))
    asked = client.message_requests[0]
    assert "declares the MCP server 'faults'" in asked.message
    assert ".mcp.json" in asked.message
    assert [a.title for a in asked.actions or []] == ["Trust and start", "Not now"]
    assert result_text(sent_results(fake_messages_api)[0]) == "pong"
    await run_task(client, fake_messages_api, Reply([ToolUse("mcp__faults__ping")]), Reply.text("pong"))
    assert len(client.message_requests) == 1  # trusted: never asked again


async def test_not_now_keeps_it_stopped_with_one_warning(client: RecordingClient,  # noqa: F811
                                                         fake_messages_api: FakeMessagesAPI, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    declare(tmp_path / "project", FAULT_STARTS=str(starts))
    client.message_answer = "Not now"
    await run_task(client, fake_messages_api, Reply.text("hello"))
    await run_task(client, fake_messages_api, Reply.text("hello"))
    assert len(client.message_requests) == 1  # asked once per server and definition, not per session
    assert not starts.exists()
    tools = [t["name"] for t in fake_messages_api.message_requests[-1].body["tools"]]
    assert not [t for t in tools if t.startswith("mcp__")]
    await client.wait_until(lambda: any("agentls mcp trust faults" in w for w in warnings(client)))
    assert len([w for w in warnings(client) if "agentls mcp trust faults" in w]) == 1


async def test_a_tool_that_changes_things_asks_the_editor(client: RecordingClient,  # noqa: F811
                                                          fake_messages_api: FakeMessagesAPI, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    declare(tmp_path / "project", FAULT_NOTES=str(notes))
    client.message_answers = ["Trust and start", "Allow for this session"]
    call = Reply([ToolUse("mcp__faults__write_note", {"text": "hi"})])
    await run_task(client, fake_messages_api, call, call, Reply.text("noted twice"))
    asked = [m.message for m in client.message_requests]
    assert len(asked) == 2, asked  # the trust, then the tool once for the session
    assert "Allow the MCP tool `write_note` of server 'faults' to run?" in asked[1]
    assert [a.title for a in client.message_requests[1].actions or []] == [
        "Allow once", "Allow for this session", "Reject"]
    assert notes.read_text() == "hi\nhi\n"


async def test_an_inline_edit_uses_a_tool_from_the_editors_settings(
        request: pytest.FixtureRequest, tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    request.param = "neovim"  # type: ignore[attr-defined]  # _editor reads the client's name from it
    settings = {"mcp": {"servers": {"faults": {"command": sys.executable, "args": [str(FAULTS)]}}}}
    editor = await _editor(request, tmp_path, fake_messages_api, settings=settings)
    try:
        fake_messages_api.add(
            Reply([ToolUse("mcp__faults__ping")]),
            Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):",
                        new_str="def add(a: int, b: int) -> int:")]),
            Reply.text("Checked the server, added hints."))
        await editor.edit("add hints")
        await editor.proposal()
        assert result_text(sent_results(fake_messages_api)[0]) == "pong"
        assert editor.client.message_requests == []  # the user's own server: trusted, its read-only tool free
    finally:
        await editor.client.shutdown_session()
        await editor.client.stop()
