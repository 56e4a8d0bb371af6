"""The agent loop on the current models: every stop reason, thinking kept valid across turns, follow-ups
and server tools, against the fake in its 5.x mode (which answers any broken transcript with a 400)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from agentls.agent.events import AgentEvent, ServerToolFinished, UsageUpdated
from agentls.agent.overlay import Overlay
from agentls.agent.session import AgentSession
from agentls.agent.tools.base import ToolContext
from agentls.agent.tools.registry import default_registry
from agentls.agent.workspace import Workspace
from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import ThinkingDelta
from agentls.workflows.task import TaskOutcome
from tests.fakes.messages_api import (
    FakeMessagesAPI,
    Fault,
    Reply,
    ServerResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolUse,
)
from tests.fakes.messages_api.binding import clean
from tests.sessions import run_with_runtime

VIEW = ToolUse("str_replace_based_edit_tool", {"command": "view", "path": "app.py"})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("def f():\n    return 1\n")
    return workspace


def settings_for(fake: FakeMessagesAPI, **sections: Any) -> Settings:
    model = {"api_key": "k", "base_url": fake.base_url, "retry": {"max_attempts": 1}, **sections.pop("model", {})}
    return Settings.model_validate({"model": model, "checkpoints": {"enabled": False}, **sections})


async def run(fake: FakeMessagesAPI, root: Path, events: list[AgentEvent] | None = None,
              **sections: Any) -> TaskOutcome:
    settings = settings_for(fake, **sections)
    provider = AnthropicProvider(settings.model)
    try:
        return await run_with_runtime(root=root, instruction="fix f", settings=settings, provider=provider,
                              on_event=events.append if events is not None else None)
    finally:
        await provider.aclose()


def direct_session(fake: FakeMessagesAPI, root: Path) -> AgentSession:
    """A session built by hand (no workflow around it), to call ``run`` and ``follow_up`` directly."""
    settings = settings_for(fake)
    workspace = Workspace(root, settings.tools.deny, settings.tools.max_file_bytes)
    context = ToolContext(workspace=workspace, overlay=Overlay(workspace), settings=settings.tools, session_id="s")
    return AgentSession(session_id="s", provider=AnthropicProvider(settings.model),
                        tools=default_registry(settings.tools), context=context, settings=settings,
                        system="Be careful.")


def no_400(fake: FakeMessagesAPI) -> None:
    rejected = [r.served for r in fake.requests if r.served.startswith("invalid request")]
    assert rejected == []


async def test_a_tool_session_sends_every_turn_back_verbatim(fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake = fake_messages_api
    note = "The function returns a constant. I will read the file before changing anything in it."
    fake.add(Reply([Text(note), VIEW]), Reply([Thinking("One more look."), VIEW]), Reply.text("It returns 1."))
    events: list[AgentEvent] = []
    outcome = await run(fake, root, events)
    assert outcome.result.status == "completed"
    no_400(fake)
    requests = fake.message_requests
    for earlier, later in itertools.pairwise(requests):
        turn = later.body["messages"][len(earlier.body["messages"])]
        assert clean(turn["content"]) == clean(earlier.response["content"])  # type: ignore[index]
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    assert note in thinking  # a progress update, readable because the display is summarized
    assert requests[0].body["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert all("temperature" not in r.body for r in requests)


async def test_a_follow_up_after_the_end_keeps_the_transcript_valid(fake_messages_api: FakeMessagesAPI,
                                                                     root: Path) -> None:
    fake_messages_api.add(Reply([VIEW]), Reply.text("Done."), Reply.text("Still done."))
    session = direct_session(fake_messages_api, root)
    try:
        assert (await session.run("look")).ok
        again = await session.follow_up("your change has a syntax error on line 2; fix it")
    finally:
        await session.provider.aclose()
    assert again.summary == "Still done."
    no_400(fake_messages_api)


async def test_a_paused_turn_is_continued_and_joined(fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([ServerToolUse("web_search", {"query": "f"})], stop_reason="pause_turn"),
             Reply([ServerResult("web_search_tool_result", []), VIEW]), Reply.text("Done."))
    events: list[AgentEvent] = []
    outcome = await run(fake, root, events, tools={"server": ["web_search"]})
    assert outcome.result.status == "completed"
    no_400(fake)
    second, third = fake.message_requests[1:]
    assert second.body["messages"][-1]["role"] == "assistant"  # the paused turn, sent back as the last message
    joined = third.body["messages"][1]["content"]  # one assistant turn: the paused part and its continuation
    assert [b["type"] for b in joined] == ["thinking", "server_tool_use", "web_search_tool_result", "thinking",
                                           "tool_use"]
    assert {"type": "web_search_20260318", "name": "web_search", "max_uses": 5,
            "allowed_callers": ["direct"]} in [clean(t) for t in third.body["tools"]]
    finished = [e for e in events if isinstance(e, ServerToolFinished)]
    assert [e.summary for e in finished] == ["web search 'f': 0 result(s)"]
    usage = [e for e in events if isinstance(e, UsageUpdated)]
    assert usage[0].turn.web_search_requests == 1
    assert usage[-1].cost_usd >= 0.01  # $10 per 1,000 searches on top of the tokens


async def test_a_refusal_ends_the_session_with_its_category(fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "This could enable cyber harm."}
    fake_messages_api.add(Reply([VIEW]), Reply([], stop_reason="refusal", stop_details=details, thinking=None))
    outcome = await run(fake_messages_api, root)
    assert outcome.result.status == "failed"
    assert outcome.result.error == "the model declined this request (cyber): This could enable cyber harm."
    assert all(m.content for m in outcome.result.messages)  # the empty refused turn was not kept


async def test_a_turn_cut_by_the_context_window_is_asked_again_after_a_summary(
        fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([VIEW]), Reply([VIEW]), Reply([Text("Half an answ")], stop_reason="model_context_window_exceeded"),
             Reply.text("Summary: viewed app.py twice."), Reply.text("It returns 1."))
    outcome = await run(fake, root)
    assert outcome.result.status == "completed"
    assert outcome.result.summary == "It returns 1."
    no_400(fake)
    last = fake.message_requests[-1].body["messages"]
    assert len(last) == 1
    assert "Summary: viewed app.py twice." in last[0]["content"][0]["text"]


async def test_a_prompt_over_the_context_window_is_compacted_and_retried(
        fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([VIEW]), Reply([VIEW]), Fault.error(400, "prompt is too long: 1000210 tokens > 1000000 maximum"),
             Reply.text("Summary."), Reply.text("Done."))
    outcome = await run(fake, root)
    assert outcome.result.status == "completed"
    served = [r.served.split("(")[0] for r in fake.message_requests]
    assert served == ["Reply", "Reply", "ErrorFault", "Reply", "Reply"]
    retried = fake.message_requests[-1].body["messages"]
    assert len(retried) == 1
    assert "<summary>\nSummary.\n</summary>" in retried[0]["content"][0]["text"]


async def test_a_turn_of_only_thinking_is_asked_again_with_the_full_output_limit(
        fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([Thinking("So many considerations...")], stop_reason="max_tokens"), Reply.text("Done."))
    outcome = await run(fake, root, model={"max_tokens": 4_000})
    assert outcome.result.status == "completed"
    no_400(fake)
    first, second = fake.message_requests
    assert (first.body["max_tokens"], second.body["max_tokens"]) == (4_000, 128_000)
    assert second.body["messages"] == first.body["messages"]  # the thinking-only turn was never sent back


async def test_a_turn_of_only_thinking_at_the_limit_fails_clearly(fake_messages_api: FakeMessagesAPI,
                                                                  root: Path) -> None:
    fake_messages_api.add(Reply([Thinking("Hmm.")], stop_reason="max_tokens"))
    outcome = await run(fake_messages_api, root, model={"max_tokens": 128_000})
    assert outcome.result.status == "failed"
    assert outcome.result.error == ("the model spent all 128,000 output tokens of a turn thinking and wrote no "
                                    "answer; lower model.effort (or raise model.max_tokens)")


async def test_settings_the_model_rejects_fail_before_any_request(fake_messages_api: FakeMessagesAPI,
                                                                  root: Path) -> None:
    outcome = await run(fake_messages_api, root, model={"thinking": "disabled"})
    assert outcome.result.status == "failed"
    assert outcome.result.error.startswith("model.thinking = 'disabled' is not supported by claude-sonnet-5-5")
    assert fake_messages_api.message_requests == []


async def test_between_tools_and_effort_reach_the_api(fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake_messages_api.add(Reply([VIEW]), Reply.text("Done."))
    outcome = await run(fake_messages_api, root, model={"thinking": "between_tools", "effort": "low"})
    assert outcome.result.ok
    body = fake_messages_api.message_requests[1].body
    assert (body["thinking"], body["output_config"]) == ({"type": "between_tools"}, {"effort": "low"})
    no_400(fake_messages_api)


async def test_code_execution_files_become_proposals_in_the_overlay(fake_messages_api: FakeMessagesAPI,
                                                                    root: Path) -> None:
    fake = fake_messages_api
    fake.add_file("file_csv", "totals.csv", b"month,total\njan,3\n", "text/csv")
    fake.add_file("file_png", "chart.png", b"\x89PNG\r\n\x1a\n\x00\x00binary", "image/png")
    output = {"type": "bash_code_execution_result", "stdout": "saved\n", "stderr": "", "return_code": 0,
              "content": [{"type": "bash_code_execution_output", "file_id": "file_csv"},
                          {"type": "bash_code_execution_output", "file_id": "file_png"}]}
    fake.add(Reply([ServerToolUse("bash_code_execution", {"command": "python report.py"}),
                    ServerResult("bash_code_execution_tool_result", output), VIEW], container="container_7"),
             Reply.text("Wrote the totals."))
    events: list[AgentEvent] = []
    outcome = await run(fake, root, events, tools={"server": ["code_execution"]})
    assert outcome.result.ok
    no_400(fake)
    first, second = fake.message_requests
    assert "save them in $OUTPUT_DIR" in first.body["system"][0]["text"]
    assert second.body["container"] == "container_7"  # the next turn runs in the same container
    assert [(o.name, o.path, o.note) for o in outcome.outputs] == [
        ("totals.csv", "totals.csv", ""), ("chart.png", None, "binary (16 bytes): not saved")]
    assert [(c.path, c.before, c.after) for c in outcome.overlay.changes()] == [
        ("totals.csv", None, "month,total\njan,3\n")]
    assert not (root / "totals.csv").exists()  # a proposal, not a write
    assert [e.summary for e in events if isinstance(e, ServerToolFinished)] == [
        "ran `python report.py` in the sandbox: exit 0"]


async def test_a_pre_5_model_keeps_the_old_behaviour(fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    fake_messages_api.add(Reply([VIEW]), Reply.text("Done."))
    outcome = await run(fake_messages_api, root, model={"name": "claude-haiku-4-5", "max_tokens": 8_000})
    assert outcome.result.ok
    body = fake_messages_api.message_requests[1].body
    assert "thinking" not in body  # budgeted thinking only: it does not think unless asked
    assert [b["type"] for b in body["messages"][1]["content"]] == ["tool_use"]
    no_400(fake_messages_api)


async def test_a_refusal_after_partial_text_keeps_nothing_of_the_refused_turn(
        fake_messages_api: FakeMessagesAPI, root: Path) -> None:
    details = {"type": "refusal", "category": None, "explanation": None}
    fake_messages_api.add(Reply([VIEW]), Reply([Text("Sure, here is how to")], stop_reason="refusal",
                                                stop_details=details))
    outcome = await run(fake_messages_api, root)
    assert outcome.result.error == "the model declined this request"
    assert outcome.result.messages[-1].role == "user"  # the partial, refused turn was discarded
    assert "Sure, here is how to" not in str(outcome.result.messages)


@pytest.mark.parametrize("answer", [[], [Text("")]], ids=["only-thinking", "thinking-and-empty-text"])
async def test_an_answer_without_content_is_not_kept_and_a_follow_up_still_works(
        fake_messages_api: FakeMessagesAPI, root: Path, answer: list[Any]) -> None:
    fake_messages_api.add(Reply([VIEW]), Reply(answer), Reply.text("Fixed the syntax error."))
    session = direct_session(fake_messages_api, root)
    try:
        first = await session.run("look")
        assert (first.status, first.summary) == ("completed", "")
        assert session.messages[-1].role == "user"
        again = await session.follow_up("your change has a syntax error on line 2; fix it")
    finally:
        await session.provider.aclose()
    assert again.summary == "Fixed the syntax error."
    no_400(fake_messages_api)


async def test_the_full_output_limit_is_for_the_one_retried_turn(fake_messages_api: FakeMessagesAPI,
                                                                 root: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([Thinking("Hmm...")], stop_reason="max_tokens"), Reply([VIEW]), Reply.text("Done."))
    outcome = await run(fake, root, model={"max_tokens": 4_000})
    assert outcome.result.ok
    assert [r.body["max_tokens"] for r in fake.message_requests] == [4_000, 128_000, 4_000]


async def test_empty_text_blocks_between_thinking_are_no_edit(fake_messages_api: FakeMessagesAPI,
                                                              root: Path) -> None:
    fake_messages_api.add(Reply([Thinking("a"), Text(""), Thinking("b"), VIEW]), Reply.text("Done."))
    outcome = await run(fake_messages_api, root)
    assert outcome.result.ok
    no_400(fake_messages_api)


async def test_files_produced_before_a_compaction_are_still_proposed(fake_messages_api: FakeMessagesAPI,
                                                                     root: Path) -> None:
    fake = fake_messages_api
    fake.add_file("file_early", "early.csv", b"a,b\n1,2\n", "text/csv")
    output = {"type": "bash_code_execution_result", "stdout": "", "stderr": "", "return_code": 0,
              "content": [{"type": "bash_code_execution_output", "file_id": "file_early"}]}
    fake.add(Reply([ServerToolUse("bash_code_execution", {"command": "python a.py"}),
                    ServerResult("bash_code_execution_tool_result", output), VIEW]),
             Reply([VIEW]), Reply([VIEW]), Fault.error(400, "prompt is too long: 1000210 tokens > 1000000 maximum"),
             Reply.text("Summary."), Reply.text("Done."))
    outcome = await run(fake, root, tools={"server": ["code_execution"]})
    assert outcome.result.ok
    assert [(o.name, o.path) for o in outcome.outputs] == [("early.csv", "early.csv")]
