"""AnthropicProvider on the current models, through the real SDK against the fake in its 5.x mode.

Every block of a turn is kept and goes back verbatim (the fake rejects anything else), thinking
summaries stream as events, requests are shaped per model and refused before sending when a setting
cannot work, and unknown model ids are looked up with the Models API.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest
from anthropic.resources.messages.messages import AsyncMessages

from agentls.config import ModelSettings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import (
    Message,
    OpaqueBlock,
    ProviderFailure,
    StreamEvent,
    TextBlock,
    ThinkingBlock,
    ThinkingDelta,
    ToolResultBlock,
    ToolUseBlock,
    ToolUseStarted,
    TurnRequest,
)
from agentls.providers.models import SPECS, spec_for
from agentls.providers.wire import count_tokens_body, request_body
from tests.fakes.messages_api import (
    FakeMessagesAPI,
    Fault,
    Reply,
    ServerResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolUse,
    custom,
)
from tests.fakes.messages_api.binding import clean

SEARCH: dict[str, Any] = {"name": "search", "description": "Search.", "input_schema": {"type": "object"}}
WEB = {"type": "web_search_20260318", "name": "web_search", "allowed_callers": ["direct"]}
TASK = Message("user", [TextBlock("Find the bug")])


@pytest.fixture
async def provider(fake_messages_api: FakeMessagesAPI) -> AsyncIterator[AnthropicProvider]:
    settings = ModelSettings.model_validate({"api_key": "k", "base_url": fake_messages_api.base_url,
                                             "retry": {"max_attempts": 1}})
    provider = AnthropicProvider(settings)
    yield provider
    await provider.aclose()


def ask(*messages: Message, model: str = "claude-sonnet-5-5", tools: list[Any] | None = None,
        **options: Any) -> TurnRequest:
    return TurnRequest(model=model, system="Be careful.", messages=list(messages) or [TASK],
                       tools=[SEARCH] if tools is None else tools, max_tokens=4_000, **options)


async def test_thinking_summaries_stream_and_the_blocks_go_back_verbatim(
    fake_messages_api: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake = fake_messages_api
    fake.add(Reply([Thinking("The loop is off by one. I should search for range calls."),
                    Text("Searching."), ToolUse("search", {"q": "range("}, id="toolu_a")]), Reply.text("Fixed."))
    events: list[StreamEvent] = []
    first = await provider.stream_turn(ask(), events.append)
    thinking = first.content[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == "The loop is off by one. I should search for range calls."
    assert thinking.signature
    pieces = [e.text for e in events if isinstance(e, ThinkingDelta)]
    assert "".join(pieces) == thinking.thinking + "\n"  # the block's end closes its last sentence
    conversation = [TASK, Message("assistant", list(first.content)),
                    Message("user", [ToolResultBlock("toolu_a", "a.py:3: for i in range(n + 1)")])]
    second = await provider.stream_turn(ask(*conversation))
    assert second.text == "Fixed."
    sent = fake.message_requests[1].body["messages"][1]["content"]
    assert clean(sent) == clean(fake.message_requests[0].response["content"])  # type: ignore[index]


async def test_server_tool_blocks_are_kept_and_a_paused_turn_continues(
    fake_messages_api: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake = fake_messages_api
    results = [{"type": "web_search_result", "url": "https://pygls.readthedocs.io", "title": "pygls",
                "encrypted_content": "EqgfCioIARgB", "page_age": None}]
    fake.add(Reply([ServerToolUse("web_search", {"query": "pygls 2 commands"})], stop_reason="pause_turn"),
             Reply([ServerResult("web_search_tool_result", results), Text("pygls 2 passes the arguments.")]))
    events: list[StreamEvent] = []
    paused = await provider.stream_turn(ask(tools=[WEB]), events.append)
    assert paused.stop_reason == "pause_turn"
    call = paused.content[-1]
    assert isinstance(call, OpaqueBlock)
    assert call.type == "server_tool_use"
    assert call.data["input"] == {"query": "pygls 2 commands"}
    assert any(isinstance(e, ToolUseStarted) and e.server and e.name == "web_search" for e in events)
    assert paused.usage.web_search_requests == 1
    done = await provider.stream_turn(ask(TASK, Message("assistant", list(paused.content)), tools=[WEB]))
    assert isinstance(done.content[0], OpaqueBlock)  # the paused search's result, then the model thinks
    assert done.content[0].data["content"] == results
    assert fake.message_requests[1].served.startswith("Reply")


async def test_refusal_details_and_the_container_are_read(
    fake_messages_api: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    details = {"type": "refusal", "category": "bio", "explanation": "This could enable biological harm."}
    fake_messages_api.add(Reply([], stop_reason="refusal", stop_details=details, thinking=None),
                          Reply([ServerToolUse("bash_code_execution", {"command": "ls"}),
                                 ServerResult("bash_code_execution_tool_result", {
                                     "type": "bash_code_execution_result", "stdout": "", "stderr": "",
                                     "return_code": 0, "content": []})], container="container_abc"))
    refused = await provider.stream_turn(ask())
    assert refused.stop_reason == "refusal"
    assert refused.stop_details is not None
    assert refused.stop_details.describe() == ("the model declined this request (bio): This could enable "
                                               "biological harm.")
    ran = await provider.stream_turn(ask(tools=[{"type": "code_execution_20260521", "name": "code_execution"}]))
    assert ran.container == "container_abc"


def test_the_request_follows_each_model() -> None:
    sonnet = request_body(ask(), SPECS["claude-sonnet-5-5"])
    assert sonnet["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert "output_config" not in sonnet
    assert "temperature" not in sonnet
    quiet = request_body(ask(thinking="between_tools", effort="low"), SPECS["claude-sonnet-5-5"])
    assert (quiet["thinking"], quiet["output_config"]) == ({"type": "between_tools"}, {"effort": "low"})
    omitted = request_body(ask(thinking_display="omitted"), SPECS["claude-opus-5-5"])
    assert omitted["thinking"] == {"type": "adaptive", "display": "omitted"}
    haiku = request_body(ask(model="claude-haiku-4-5", effort=None), spec_for("claude-haiku-4-5"))  # type: ignore[arg-type]
    assert "thinking" not in haiku  # budgeted thinking only: it does not think unless asked
    off = request_body(ask(model="claude-haiku-5-5", thinking="disabled"), SPECS["claude-haiku-5-5"])
    assert off["thinking"] == {"type": "disabled"}


@pytest.mark.parametrize(("request_", "model", "message"), [
    (ask(), "claude-haiku-4-5-20251001", None),
    (ask(thinking="disabled"), "claude-sonnet-5-5", "model.thinking = 'disabled' is not supported by "
     "claude-sonnet-5-5; use 'adaptive' or 'between_tools'"),
    (ask(thinking="between_tools"), "claude-opus-5-5", "model.thinking = 'between_tools' is not supported by "
     "claude-opus-5-5, which always thinks; use 'adaptive' (a lower model.effort makes it think less)"),
    (ask(thinking="between_tools", effort="max"), "claude-sonnet-5-5", "model.thinking = 'between_tools' works "
     "up to model.effort = 'high' on claude-sonnet-5-5, not 'max'; lower model.effort or use 'adaptive'"),
    (ask(effort="xhigh"), "claude-sonnet-4-6", "model.effort = 'xhigh' is not supported by claude-sonnet-4-6 "
     "(low, medium, high, max)"),
], ids=["fine", "disabled", "always-thinks", "off-at-max", "effort"])
def test_settings_a_model_cannot_honour_are_refused_before_sending(
    request_: TurnRequest, model: str, message: str | None
) -> None:
    spec = SPECS[model]
    shaped = dataclasses.replace(request_, model=model)
    if message is None:
        request_body(shaped, spec)
        return
    with pytest.raises(ProviderFailure) as caught:
        request_body(shaped, spec)
    assert (str(caught.value), caught.value.kind, caught.value.retryable) == (message, "settings", False)


async def test_max_tokens_over_the_model_limit_is_refused_without_a_request(
    fake_messages_api: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    too_many = TurnRequest(model="claude-sonnet-5-5", system="", messages=[TASK], tools=[], max_tokens=200_000)
    with pytest.raises(ProviderFailure, match=r"model.max_tokens = 200,000 is more than claude-sonnet-5-5 can "
                                              r"write in one turn \(128,000, thinking included\)"):
        await provider.stream_turn(too_many)
    assert fake_messages_api.requests == []


def test_every_key_the_request_builder_emits_is_a_parameter_of_the_installed_sdk() -> None:
    accepted = set(inspect.signature(AsyncMessages.stream).parameters)
    counted = set(inspect.signature(AsyncMessages.count_tokens).parameters)
    history = [TASK, Message("assistant", [ThinkingBlock("", "sig"), ToolUseBlock("t", "search", {})]),
               Message("user", [ToolResultBlock("t", "x")])]
    variants = [ask(*history, effort="medium", container="container_1"), ask(thinking="between_tools"),
                ask(model="claude-haiku-5-5", thinking="disabled", effort="low")]
    for variant in variants:
        spec = spec_for(variant.model)
        assert spec is not None
        assert set(request_body(variant, spec)) <= accepted
        assert set(count_tokens_body(variant, spec)) <= counted


def test_breakpoints_never_land_on_thinking() -> None:
    paused = Message("assistant", [TextBlock("Looking it up."), ThinkingBlock("wrapping up", "sig")])
    body = request_body(ask(TASK, paused), SPECS["claude-sonnet-5-5"])  # a paused turn is the newest message
    assistant = body["messages"][1]["content"]
    assert "cache_control" in assistant[0]
    assert "cache_control" not in assistant[1]


def test_every_model_the_sdk_lists_is_in_the_table() -> None:
    listed = typing.get_args(typing.get_args(anthropic.types.Model)[0])
    missing = [model for model in listed if spec_for(model) is None]
    assert missing == []


async def test_unknown_models_are_asked_of_the_models_api_once() -> None:
    with FakeMessagesAPI(models=[custom("claude-nova-6", context_window=2_000_000, max_output=256_000)]) as fake:
        provider = AnthropicProvider(ModelSettings.model_validate({"api_key": "k", "base_url": fake.base_url}))
        try:
            limits = await provider.limits("claude-nova-6")
            assert (limits.context_window, limits.max_output) == (2_000_000, 256_000)
            fake.add(Reply.text("hi"))
            request = TurnRequest(model="claude-nova-6", system="", messages=[TASK], tools=[], max_tokens=200_000)
            assert (await provider.stream_turn(request)).text == "hi"  # over 128K: this model allows it
            assert [r.path for r in fake.requests] == ["/v1/models/claude-nova-6", "/v1/messages"]
            with pytest.raises(ProviderFailure, match=r"does not know the model 'claude-nope'; check model\.name"):
                await provider.limits("claude-nope")
        finally:
            await provider.aclose()


async def test_a_prompt_too_long_is_a_context_window_failure(
    fake_messages_api: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake_messages_api.add(Fault.error(400, "prompt is too long: 1000210 tokens > 1000000 maximum"))
    with pytest.raises(ProviderFailure) as caught:
        await provider.stream_turn(ask())
    assert caught.value.kind == "context_window"
    assert "prompt is too long" in str(caught.value)


async def test_an_unknown_models_capabilities_decide_what_is_sent() -> None:
    nova = custom("claude-nova-6", thinking_types=("adaptive", "disabled"), effort=("low", "medium", "high"))
    with FakeMessagesAPI(models=[nova]) as fake:
        provider = AnthropicProvider(ModelSettings.model_validate({"api_key": "k", "base_url": fake.base_url}))
        try:
            fake.add(Reply.text("hi"))
            off = TurnRequest(model="claude-nova-6", system="", messages=[TASK], tools=[], max_tokens=1_000,
                              thinking="disabled")
            assert (await provider.stream_turn(off)).text == "hi"
            assert fake.message_requests[0].body["thinking"] == {"type": "disabled"}
            with pytest.raises(ProviderFailure, match=r"model.effort = 'max' is not supported by claude-nova-6 "
                                                      r"\(low, medium, high\)"):
                await provider.stream_turn(dataclasses.replace(off, effort="max"))
            assert len(fake.message_requests) == 1
        finally:
            await provider.aclose()
