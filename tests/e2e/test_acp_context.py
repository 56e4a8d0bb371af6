"""What an ACP client brings into a prompt beyond text: an image the model sees, an attached deny-listed
file it never sees, and MCP servers passed in ``session/new`` whose tools the model can call."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import acp
from acp.schema import EnvVariable, ImageContentBlock, Implementation, McpServerStdio, ResourceContentBlock

from tests.e2e.test_acp import Editor, prompt, running, within
from tests.e2e.test_headless import repo  # noqa: F401 - the fixture
from tests.e2e.test_mcp import FAULTS
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse

#: A 1x1 PNG.
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


async def _session(agent: object, editor: Editor, workspace: Path, servers: list[object] | None = None) -> str:
    conn = agent.conn  # type: ignore[attr-defined]
    await within(conn.initialize(protocol_version=acp.PROTOCOL_VERSION, client_capabilities=editor.capabilities,
                                 client_info=Implementation(name="e2e-editor", version="0")))
    return str((await within(conn.new_session(cwd=str(workspace), mcp_servers=servers or []))).session_id)


def first_user_content(fake: FakeMessagesAPI) -> list[dict[str, object]]:
    content = fake.message_requests[-1].body["messages"][0]["content"]
    assert isinstance(content, list)
    return content


async def test_an_image_reaches_the_model_and_a_denied_file_does_not(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    (repo / ".env").write_text("API_TOKEN=do-not-leak\n")
    fake_messages_api.add(Reply.text("A tiny picture."))
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await _session(agent, editor, repo)
        stop = await prompt(agent, session_id, "what is in this picture?",
                            ImageContentBlock(type="image", mime_type="image/png", data=PIXEL),
                            ResourceContentBlock(type="resource_link", uri=(repo / ".env").as_uri(), name=".env"))
        assert stop == "end_turn"
    content = first_user_content(fake_messages_api)
    images = [block for block in content if block.get("type") == "image"]
    assert images == [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}]
    assert "do-not-leak" not in json.dumps(fake_messages_api.message_requests[-1].body)


async def test_mcp_servers_from_the_client_offer_their_tools(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    starts = tmp_path / "starts"
    server = McpServerStdio(name="faults", command=sys.executable, args=[str(FAULTS)],
                            env=[EnvVariable(name="FAULT_STARTS", value=str(starts))])
    fake_messages_api.add(Reply([ToolUse("mcp__faults__ping")]), Reply.text("pong it is"))
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await _session(agent, editor, repo, [server])
        assert await prompt(agent, session_id, "ping the server") == "end_turn"
    assert "mcp__faults__ping" in [t["name"] for t in fake_messages_api.message_requests[0].body["tools"]]
    results = [block for message in fake_messages_api.message_requests[-1].body["messages"]
               if isinstance(message["content"], list) for block in message["content"]
               if block.get("type") == "tool_result"]
    assert results[0]["content"] == "pong"
    assert starts.exists()  # the client's server is the user's choice: trusted, no question
    assert editor.of("tool_call")


async def test_the_agent_reads_files_through_the_editor_and_edits_what_the_user_sees(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    """Not attached, just viewed by the model: the editor's unsaved buffer is what it reads and edits."""
    from tests.e2e.test_headless import edit

    unsaved = "def add(a, b):\n    return a + b  # typed, not saved\n"
    fake_messages_api.add(Reply([edit("view", path="calc.py")]),
                          Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):",
                                      new_str="def add(a: int, b: int) -> int:")]),
                          Reply.text("Added hints."))
    editor = Editor()
    editor.buffers[str(repo / "calc.py")] = unsaved
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await _session(agent, editor, repo)
        assert await prompt(agent, session_id, "add type hints") == "end_turn"
    results = [block for message in fake_messages_api.message_requests[-1].body["messages"]
               if isinstance(message["content"], list) for block in message["content"]
               if block.get("type") == "tool_result"]
    assert "typed, not saved" in str(results[0]["content"])
    hinted = unsaved.replace("def add(a, b):", "def add(a: int, b: int) -> int:")
    assert editor.writes == {str(repo / "calc.py"): hinted}  # the user's typing kept
