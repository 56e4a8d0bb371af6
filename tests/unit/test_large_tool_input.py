"""A tool input of ~10 MB streamed in small deltas is read whole and right, through the real SDK over HTTP.

The SDK's accumulator re-parses the input on every delta (minutes for this one); ``turn_stream`` parses it
once. The timing, ours against the SDK's, is in ``bench/large_tool_input.py``; this checks the content.
"""

from __future__ import annotations

import asyncio

from agentls.config import ModelSettings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import Message, TextBlock, ToolUseBlock, ToolUseStarted, TurnRequest
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse

MODEL = "claude-sonnet-5-5"


def large_input(megabytes: float) -> dict[str, object]:
    line = 'print("héllo, \\"wörld\\"")\t# ünïcode and escapes\n'
    text = line * int(megabytes * 1e6 / len(line.encode()))
    return {"command": "create", "path": "big.py", "file_text": text, "meta": {"lines": text.count("\n")}}


async def test_a_ten_megabyte_tool_input_in_small_deltas_is_read_whole(fake_messages_api: FakeMessagesAPI) -> None:
    tool_input = large_input(10)
    fake_messages_api.add(Reply([ToolUse("str_replace_based_edit_tool", tool_input, id="toolu_big")],
                                chunk_size=200))
    settings = ModelSettings.model_validate({"name": MODEL, "api_key": "test-key", "timeout_s": 60,
                                             "base_url": fake_messages_api.base_url})
    provider = AnthropicProvider(settings)
    events: list[object] = []
    try:
        request = TurnRequest(model=MODEL, system="", messages=[Message("user", [TextBlock("write it")])],
                              tools=[{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}],
                              max_tokens=1024)
        result = await asyncio.wait_for(provider.stream_turn(request, events.append), 120)
    finally:
        await provider.aclose()
    [call] = result.tool_calls
    assert call == ToolUseBlock("toolu_big", "str_replace_based_edit_tool", tool_input)
    assert result.stop_reason == "tool_use"
    assert [e for e in events if isinstance(e, ToolUseStarted)] == [
        ToolUseStarted("toolu_big", "str_replace_based_edit_tool", server=False)]
