"""A session cannot work past ``agent.session_deadline_s``; what it proposed before is kept (issue #16)."""

from __future__ import annotations

import time
from pathlib import Path

from agentls.agent.events import AgentEvent, ChangeProposed, SessionEnded
from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse
from tests.sessions import run_with_runtime


async def test_a_session_past_its_deadline_stops_and_keeps_its_proposal(fake_messages_api: FakeMessagesAPI,
                                                                       tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    fake_messages_api.add(
        Reply([ToolUse("str_replace_based_edit_tool",
                       {"command": "str_replace", "path": "app.py", "old_str": "x = 1", "new_str": "x = 2"})]),
        # The next turn trickles on (each event well inside the read timeout and the turn deadline).
        Reply.text("word " * 400, chunk_size=5, event_delay=0.05),
    )
    settings = Settings.model_validate({
        "model": {"api_key": "test-key", "base_url": fake_messages_api.base_url},
        "agent": {"session_deadline_s": 1.5}})
    provider = AnthropicProvider(settings.model)
    events: list[AgentEvent] = []
    started = time.monotonic()
    try:
        outcome = await run_with_runtime(root=tmp_path, instruction="edit", settings=settings, provider=provider,
                                         on_event=events.append)
    finally:
        await provider.aclose()
    elapsed = time.monotonic() - started

    assert elapsed < 5, elapsed  # the slow turn alone would take about 20 s
    result = outcome.result
    assert result.status == "budget"
    assert result.error == "stopped: the session took longer than 1.5 s (agent.session_deadline_s)"
    assert len(fake_messages_api.message_requests) == 2  # cut off, not retried
    # The edit made before the deadline is still proposed.
    assert [(c.path, c.after) for c in outcome.overlay.changes()] == [("app.py", "x = 2\n")]
    assert any(isinstance(e, ChangeProposed) and e.path == "app.py" for e in events)
    ended = [e for e in events if isinstance(e, SessionEnded)]
    assert [e.status for e in ended] == ["budget"]
    assert (tmp_path / "app.py").read_text() == "x = 1\n"  # proposed, not written
