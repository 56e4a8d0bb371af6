"""A stream that keeps trickling (keep-alive pings, a slow model) cannot hold a turn past its deadline."""

from __future__ import annotations

from pathlib import Path

from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from tests.fakes.messages_api import FakeMessagesAPI, Reply
from tests.sessions import run_with_runtime


async def test_a_turn_past_its_deadline_fails_as_a_timeout(fake_messages_api: FakeMessagesAPI,
                                                           tmp_path: Path) -> None:
    fake_messages_api.respond_with(lambda request: Reply.text("word " * 200, chunk_size=5, event_delay=0.05))
    settings = Settings.model_validate({"model": {
        "api_key": "test-key", "base_url": fake_messages_api.base_url, "turn_deadline_s": 0.5,
        "retry": {"base_delay_s": 0.01, "max_delay_s": 0.02, "max_attempts": 2}}})
    provider = AnthropicProvider(settings.model)
    try:
        outcome = await run_with_runtime(root=tmp_path, instruction="talk", settings=settings, provider=provider)
    finally:
        await provider.aclose()
    assert not outcome.result.ok
    assert "timed out" in (outcome.result.error or "")
    assert len(fake_messages_api.message_requests) == 2  # retried once, then given up
