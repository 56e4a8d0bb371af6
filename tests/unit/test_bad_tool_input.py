"""A tool input of the wrong JSON type is an error result the model can act on, never a crashed session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.messages_api import FakeMessagesAPI, RawInput, Reply, ToolUse
from tests.unit.test_agent_session import run, tool_results


@pytest.mark.parametrize("value", [["view", "pkg/app.py"], 3, "view pkg/app.py", None, True])
async def test_a_non_object_tool_input_is_an_error_result(fake_messages_api: FakeMessagesAPI, tmp_path: Path,
                                                          value: object) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text("x = 1\n")
    fake_messages_api.add(Reply([ToolUse("str_replace_based_edit_tool", value)]),  # type: ignore[arg-type]
                          Reply.text("sorry"))
    outcome = await run(fake_messages_api, root)
    assert outcome.result.ok, outcome.result.error
    [result] = tool_results(fake_messages_api.message_requests[1].body)
    assert result["is_error"] is True
    assert "must be a JSON object" in str(result["content"])


@pytest.mark.parametrize("value", [RawInput('{"command": "view", "path": '), RawInput("view pkg/app.py")])
async def test_an_input_the_sdk_cannot_parse_fails_the_turn_cleanly(fake_messages_api: FakeMessagesAPI,
                                                                   tmp_path: Path, value: object) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    fake_messages_api.respond_with(lambda request: Reply([ToolUse("str_replace_based_edit_tool", value)]))  # type: ignore[arg-type]
    outcome = await run(fake_messages_api, root)
    assert not outcome.result.ok
    assert "sent an unreadable tool call" in (outcome.result.error or "")
