"""Memory notes: the agent proposes, the user decides; nothing reaches .agentls/memory.md unaccepted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from agentls.agent.memory import NOTES_FILE, NOTES_HEADER, append_note
from tests.e2e.harness import RecordingClient, _plain, start
from tests.e2e.test_headless import agentls
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse

NOTE = "Run the tests with `python -m pytest -q` from the repository root."


def script() -> list[Reply]:
    return [Reply([ToolUse("remember", {"note": NOTE})]), Reply.text("Nothing to change; noted how to test.")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text("def main():\n    return 1\n")
    return root


def test_append_note_creates_the_file_once_and_never_duplicates(tmp_path: Path) -> None:
    path = append_note(tmp_path, "  Use   tabs.  ")
    assert path == tmp_path / NOTES_FILE
    append_note(tmp_path, "Use tabs.")
    append_note(tmp_path, "Tests live in tests/.")
    assert path.read_text() == NOTES_HEADER + "- Use tabs.\n- Tests live in tests/.\n"
    # A file in another encoding is kept byte for byte, and the note still goes in.
    path.write_bytes(b"- caf\xe9 notes\n")
    append_note(tmp_path, "Use spaces.")
    assert path.read_bytes() == b"- caf\xe9 notes\n- Use spaces.\n"


def test_headless_shows_a_note_but_saves_it_only_with_remember(
        fake_messages_api: FakeMessagesAPI, project: Path, tmp_path: Path) -> None:
    fake_messages_api.add(*script())
    done = agentls(fake_messages_api, tmp_path / "home", "run", "--workspace", str(project), "--json",
                   "how are tests run?")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["notes"] == [NOTE]
    assert json.loads(done.stdout)["remembered"] == []
    assert "proposed note, not saved" in done.stderr
    assert not (project / NOTES_FILE).exists()
    tools = [t["name"] for t in fake_messages_api.message_requests[0].body["tools"]]
    assert "remember" in tools

    fake_messages_api.add(*script())
    done = agentls(fake_messages_api, tmp_path / "home", "run", "--workspace", str(project), "--json",
                   "--remember", "how are tests run?")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["remembered"] == [NOTE]
    assert (project / NOTES_FILE).read_text().endswith(f"- {NOTE}\n")

    # The next session is told.
    fake_messages_api.add(Reply.text("ok"))
    agentls(fake_messages_api, tmp_path / "home", "run", "--workspace", str(project), "anything")
    assert NOTE in json.dumps(fake_messages_api.message_requests[-1].body["system"])


@pytest_asyncio.fixture
async def client(project: Path, tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> AsyncIterator[RecordingClient]:
    client, _ = await start("visual_studio_code", project, tmp_path / "home",
                            initialization_options={"inlineProposals": True}, env=fake_messages_api.env())
    yield client
    await client.shutdown_session()
    await client.stop()


@pytest.mark.parametrize("answer", ["Remember", "Dismiss", None])
async def test_the_editor_asks_and_only_an_accepted_note_is_saved(
        client: RecordingClient, fake_messages_api: FakeMessagesAPI, project: Path, answer: str | None) -> None:
    client.message_answer = answer
    fake_messages_api.add(*script())
    _plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="agentls.task", arguments=[{"instruction": "how are tests run?"}])))
    await client.wait_until(lambda: client.message_requests, timeout=30)
    asked = client.message_requests[0]
    assert NOTE in asked.message
    assert [a.title for a in asked.actions or []] == ["Remember", "Dismiss"]
    if answer == "Remember":
        await client.wait_until(lambda: (project / NOTES_FILE).exists(), timeout=10)
        assert (project / NOTES_FILE).read_text().endswith(f"- {NOTE}\n")
    else:
        # The server answers the next request only after handling the reply; a write that would come
        # later still would have come within a second.
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="agentls.usage", arguments=[{}]))
        for _ in range(20):
            assert not (project / NOTES_FILE).exists()
            await asyncio.sleep(0.05)
