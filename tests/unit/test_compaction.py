"""Compaction: long sessions start a new transcript from a summary near the context window (the cache
prefix kept, the newest turns written out, no thinking block replayed after its prefix changed);
oversized tool results are cut in the middle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentls.agent import compaction
from agentls.agent import session as session_module
from agentls.agent.events import AgentEvent, Compacted
from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import Message, TextBlock, ToolResultBlock, ToolUseBlock
from agentls.tokens import TokenCounter
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse
from tests.sessions import run_with_runtime

EDITOR = "str_replace_based_edit_tool"


def test_truncate_middle_keeps_head_and_tail_with_a_note() -> None:
    text = "".join(f"line {n}\n" for n in range(5_000))
    assert compaction.truncate_middle(text, len(text)) == text
    cut = compaction.truncate_middle(text, 2_000)
    assert len(cut) < 2_400
    assert cut.startswith("line 0\nline 1\n")
    assert cut.rstrip().endswith("line 4999")
    assert "characters omitted from the middle" in cut
    assert f"{len(text):,} characters long" in cut


def test_split_point_never_separates_a_tool_call_from_its_result() -> None:
    def turn(n: int) -> list[Message]:
        return [Message("assistant", [ToolUseBlock(f"t{n}", "search", {"pattern": str(n)})]),
                Message("user", [ToolResultBlock(f"t{n}", f"result {n}")])]

    messages = [Message("user", [TextBlock("task")]), *turn(1), *turn(2), *turn(3), *turn(4)]
    cut = compaction.split_point(messages)
    assert cut == 5
    assert messages[cut].role == "assistant"
    kept = compaction.compacted(messages, cut, "did things")
    assert [m.role for m in kept] == ["user"]  # a new transcript: nothing replayed after a changed prefix
    first = kept[0].content[0]
    assert isinstance(first, TextBlock)
    assert first.text.startswith("task\n")
    assert "<summary>\ndid things\n</summary>" in first.text
    # the newest turns written out, call by call, result by result
    recent = first.text.split(compaction.RECENT_HEADER, 1)[1]
    assert 'assistant called search with {"pattern": "3"}' in recent
    assert "tool result:\nresult 4" in recent
    assert "result 2" not in recent
    assert first.text.endswith(compaction.CONTINUE_AFTER_SUMMARY)
    # A second compaction replaces the first summary instead of nesting it.
    again = compaction.compacted([*kept, *turn(5), *turn(6), *turn(7)], 3, "did more things")
    text = again[0].content[0]
    assert isinstance(text, TextBlock)
    assert text.text.count(compaction.SUMMARY_HEADER) == 1
    assert "did more things" in text.text
    assert "did things\n" not in text.text
    assert text.text.startswith("task\n")
    assert compaction.split_point(messages[:3]) is None  # one exchange: nothing to summarise
    # A paused turn leaves two assistant messages in a row: the cut goes before the pair.
    paused = [*messages[:5], Message("assistant", [TextBlock("more")]), *messages[5:]]
    cut = compaction.split_point(paused)
    assert cut == 5  # before the paused pair (indices 5 and 6), after a user turn
    assert paused[cut - 1].role == "user"


async def test_a_long_session_is_compacted_keeping_the_prefix_and_the_newest_turns(
        fake_messages_api: FakeMessagesAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "COUNTER", TokenCounter())  # uncalibrated by earlier tests
    root = tmp_path / "ws"
    root.mkdir()
    for n in range(6):
        (root / f"part{n}.py").write_text("".join(f"value_{n}_{i} = {i}\n" for i in range(300)))
    views = [ToolUse(EDITOR, {"command": "view", "path": f"part{n}.py"}) for n in range(6)]
    state = {"next": 0}

    def respond(request: Any) -> Reply:
        last = request.body["messages"][-1]["content"]
        texts = [b.get("text", "") for b in last if isinstance(b, dict)]
        if any(compaction.SUMMARY_REQUEST in t for t in texts):
            return Reply.text("Viewed part0.py to part3.py; nothing changed yet.")
        index = state["next"]
        state["next"] += 1
        return Reply([views[index]]) if index < len(views) else Reply.text("All parts read.")

    fake_messages_api.respond_with(respond)
    settings = Settings.model_validate({
        "model": {"api_key": "k", "base_url": fake_messages_api.base_url, "max_tokens": 256,
                  "retry": {"base_delay_s": 0.01, "max_attempts": 2}},
        "agent": {"context_window": 12_000, "compact_at": 0.8}, "checkpoints": {"enabled": False},
    })
    events: list[AgentEvent] = []
    provider = AnthropicProvider(settings.model)
    try:
        outcome = await run_with_runtime(root=root, instruction="read every part", settings=settings, provider=provider,
                                 on_event=events.append)
    finally:
        await provider.aclose()
    assert outcome.result.status == "completed"
    assert outcome.result.summary == "All parts read."
    requests = fake_messages_api.message_requests
    summary_at = [i for i, r in enumerate(requests)
                  if compaction.SUMMARY_REQUEST in str(r.body["messages"][-1]["content"])]
    assert summary_at, "no summary was requested"
    asked = requests[summary_at[0]]
    after = requests[summary_at[0] + 1]
    first = requests[0]
    # The cached prefix: system prompt and tools are byte-identical before, during and after.
    assert asked.body["system"] == after.body["system"] == first.body["system"]
    assert asked.body["tools"] == after.body["tools"] == first.body["tools"]
    # The summary turn is the conversation so far, verbatim (thinking included), plus the request.
    before_summary = requests[summary_at[0] - 1].body["messages"]
    assert [m["role"] for m in asked.body["messages"]] == [m["role"] for m in before_summary][
        : len(asked.body["messages"])]
    assert any(b["type"] == "thinking" for m in asked.body["messages"] for b in m["content"])
    # The compacted request: one user message (task, summary, the newest turns written out), then this
    # turn's call and result; no thinking block from before the summary is sent again.
    opening = after.body["messages"][0]["content"][0]["text"]
    assert opening.startswith("read every part")
    assert "Viewed part0.py to part3.py; nothing changed yet." in opening
    assert compaction.RECENT_HEADER in opening
    assert [m["role"] for m in after.body["messages"]] == ["user"]
    assert not fake_messages_api.errors
    assert all(r.served.startswith(("Reply", "callable")) for r in requests)  # no 400 anywhere
    assert any(isinstance(e, Compacted) and e.after_tokens < e.before_tokens for e in events)


async def test_oversized_tool_results_reach_the_model_cut_in_the_middle(
        fake_messages_api: FakeMessagesAPI, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "big.py").write_text("".join(f"row_{i} = {i}\n" for i in range(8_000)))
    fake_messages_api.add(Reply([ToolUse(EDITOR, {"command": "view", "path": "big.py"})]), Reply.text("ok"))
    settings = Settings.model_validate({
        "model": {"api_key": "k", "base_url": fake_messages_api.base_url},
        "agent": {"max_tool_result_chars": 5_000}, "checkpoints": {"enabled": False},
    })
    provider = AnthropicProvider(settings.model)
    try:
        await run_with_runtime(root=root, instruction="look", settings=settings, provider=provider)
    finally:
        await provider.aclose()
    result = fake_messages_api.message_requests[1].body["messages"][-1]["content"][0]
    content = result["content"] if isinstance(result["content"], str) else result["content"][0]["text"]
    assert len(content) < 5_500
    assert "row_0 = 0" in content  # the head
    assert content.rstrip().endswith("use view_range to see the rest>")  # and the tail survive
    assert "characters omitted from the middle" in content
