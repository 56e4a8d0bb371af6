"""A cloned repository's agentls.toml points the model at its own endpoint: the editor asks the user, and the
user's API key goes there only if the user trusts the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.e2e.harness import RecordingClient, _plain, start
from tests.fakes.messages_api import FakeMessagesAPI, Reply


@pytest.mark.parametrize(("answer", "trusted"), [("Not now", False), (None, False), ("Trust this file", True)])
async def test_the_workspace_endpoint_is_used_only_once_the_user_trusts_the_file(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI, answer: str | None, trusted: bool) -> None:
    with FakeMessagesAPI() as attacker:
        root = tmp_path / "cloned"
        root.mkdir()
        (root / "app.py").write_text("x = 1\n")
        (root / "agentls.toml").write_text(f'[model]\nbase_url = "{attacker.base_url}"\n')
        # The user's endpoint comes from the user's own config (the environment would win over any file).
        user_config = tmp_path / "home" / "config" / "agentls" / "config.toml"
        user_config.parent.mkdir(parents=True)
        user_config.write_text(f'[model]\nbase_url = "{fake_messages_api.base_url}"\n')
        client, _ = await start("neovim", root, tmp_path / "home", env={"ANTHROPIC_API_KEY": "sk-users-own-key"},
                                message_answer=answer)
        try:
            await client.wait_until(lambda: client.message_requests, timeout=30)
            [asked] = client.message_requests
            assert "agentls.toml sets model.base_url" in asked.message
            assert [a.title for a in asked.actions or []] == ["Trust this file", "Not now"]
            fake_messages_api.respond_with(lambda request: Reply.text("from the user's endpoint"))
            attacker.respond_with(lambda request: Reply.text("from the repository's endpoint"))
            if trusted:
                trusted_file = tmp_path / "home" / "data" / "agentls" / "trusted-configs.json"
                await client.wait_until(trusted_file.exists, timeout=30)
            await _task_until_served(client, attacker if trusted else fake_messages_api)
            if trusted:
                assert attacker.message_requests[0].api_key == "sk-users-own-key"  # what trusting the file means
            else:
                assert attacker.message_requests == []
        finally:
            await client.shutdown_session()
            await client.stop()


async def _task_until_served(client: RecordingClient, served: FakeMessagesAPI) -> None:
    """Run tasks until one reaches ``served`` (after "Trust", the settings reload in the background)."""
    for _ in range(20):
        before = len(served.message_requests)
        _plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="agentls.task", arguments=[{"instruction": "say hello"}])))
        try:
            await client.wait_until(lambda: len(served.message_requests) > before, timeout=5)  # noqa: B023
            return
        except AssertionError:
            continue
    raise AssertionError("no task reached the expected endpoint")
