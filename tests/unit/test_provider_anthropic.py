"""AnthropicProvider through the real SDK against the fake Messages API (never the real endpoint)."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentls.config import ModelSettings
from agentls.providers.anthropic import AnthropicProvider, retry_after
from agentls.providers.base import (
    CircuitChanged,
    Message,
    ProviderFailure,
    Retrying,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolResultBlock,
    ToolUseBlock,
    ToolUseStarted,
    TurnRequest,
    Usage,
)
from agentls.providers.models import SPECS
from agentls.providers.wire import request_body
from tests.fakes.messages_api import FakeMessagesAPI, Fault, RecordedRequest, Reply, Text, ToolUse
from tests.fakes.messages_api import Usage as FakeUsage

MODEL = "claude-sonnet-5-5"
SONNET = SPECS[MODEL]
SYSTEM = "You are a careful coding agent.\nEdit only what you are asked to."
EDITOR_TOOL: dict[str, Any] = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
SEARCH_TOOL: dict[str, Any] = {
    "name": "search",
    "description": "Search the workspace with a regular expression.",
    "input_schema": {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "path": {"type": "string"}},
        "required": ["pattern"],
    },
}
EDIT_INPUT: dict[str, Any] = {
    "command": "str_replace",
    "path": "src/a.py",
    "old_str": 'print("héllo")\n\tx = {"k": [1, 2.5, null]}',
    "new_str": "print('bye')",
}


class Recorder:
    """Stands in for asyncio.sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.sleeps.append(delay)


@pytest.fixture
def fake(fake_messages_api: FakeMessagesAPI) -> FakeMessagesAPI:
    return fake_messages_api


def settings(fake: FakeMessagesAPI, **retry: float) -> ModelSettings:
    return ModelSettings.model_validate({
        "name": MODEL,
        "api_key": "test-key",
        "base_url": fake.base_url,
        "timeout_s": 10.0,
        "retry": {"max_attempts": 4, "base_delay_s": 0.001, "max_delay_s": 0.05, **retry},
    })


@pytest.fixture
def sleeps() -> Recorder:
    return Recorder()


@pytest.fixture
async def provider(fake: FakeMessagesAPI, sleeps: Recorder) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(settings(fake), sleep=sleeps)
    yield provider
    await provider.aclose()


def request(*messages: Message, cache: bool = True, tools: list[dict[str, Any]] | None = None) -> TurnRequest:
    return TurnRequest(
        model=MODEL,
        system=SYSTEM,
        messages=list(messages) or [Message("user", [TextBlock("Rename x to count in a.py")])],
        tools=[EDITOR_TOOL, SEARCH_TOOL] if tools is None else tools,
        max_tokens=1024,
        cache=cache,
    )


async def turn(provider: AnthropicProvider, req: TurnRequest | None = None) -> tuple[Any, list[StreamEvent]]:
    """One turn; the events without the thinking summary's (``test_thinking_*`` look at those)."""
    events: list[StreamEvent] = []
    result = await provider.stream_turn(req or request(), events.append)
    return result, [e for e in events if not isinstance(e, ThinkingDelta)]


def visible(content: list[Any]) -> list[Any]:
    """A turn's content without its thinking blocks (the fake adds one to every reply, as the model does)."""
    return [block for block in content if not isinstance(block, ThinkingBlock)]


def without_cache_control(value: Any) -> Any:
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    if isinstance(value, dict):
        return {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    return value


def cache_control_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in cache_control_paths(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        own = [path] if "cache_control" in value else []
        return own + [p for k, v in value.items() for p in cache_control_paths(v, f"{path}.{k}")]
    return []


def messages_sent(fake: FakeMessagesAPI) -> list[RecordedRequest]:
    return fake.message_requests


# -- streaming ------------------------------------------------------------------------------------


async def test_text_streams_in_order_and_the_final_content_is_whole(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    text = "Here is a reply long enough to arrive in several deltas."
    fake.add(Reply.text(text, chunk_size=8))
    result, events = await turn(provider)

    assert all(isinstance(e, TextDelta) for e in events)
    assert len(events) > 2
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == text
    assert visible(result.content) == [TextBlock(text)]
    assert (result.stop_reason, result.model, result.attempts) == ("end_turn", MODEL, 1)
    assert result.tool_calls == []
    sent = messages_sent(fake)
    assert len(sent) == 1
    assert sent[0].is_stream
    assert sent[0].api_key == "test-key"


async def test_tool_use_arrives_with_its_input_json(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake.add(Reply.tool_use("str_replace_based_edit_tool", EDIT_INPUT, id="toolu_01abc", chunk_size=5))
    result, events = await turn(provider)

    assert events == [ToolUseStarted("toolu_01abc", "str_replace_based_edit_tool")]
    assert visible(result.content) == [ToolUseBlock("toolu_01abc", "str_replace_based_edit_tool", EDIT_INPUT)]
    assert result.stop_reason == "tool_use"


async def test_text_then_tool_use(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(Reply([Text("Let me search."), ToolUse("search", {"pattern": "x"}, id="toolu_1")]))
    result, events = await turn(provider)

    kinds = [type(e).__name__ for e in events]
    assert kinds[-1] == "ToolUseStarted"
    assert set(kinds[:-1]) == {"TextDelta"}
    call = ToolUseBlock("toolu_1", "search", {"pattern": "x"})
    assert visible(result.content) == [TextBlock("Let me search."), call]
    assert result.tool_calls == [call]


async def test_usage_is_mapped(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(Reply.text("ok", usage=FakeUsage(input_tokens=12, output_tokens=34,
                                                cache_creation_input_tokens=560,
                                                cache_read_input_tokens=7800)))
    result, _ = await turn(provider)
    assert result.usage == Usage(input_tokens=12, output_tokens=34, cache_creation_input_tokens=560,
                                 cache_read_input_tokens=7800, thinking_tokens=14)  # 56 characters of thinking


async def test_on_event_is_optional(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(Reply.text("quiet"))
    assert visible((await provider.stream_turn(request())).content) == [TextBlock("quiet")]


# -- the request body and prompt caching ----------------------------------------------------------


async def test_a_conversation_is_sent_so_each_request_extends_the_previous_one(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    tools = [copy.deepcopy(EDITOR_TOOL), copy.deepcopy(SEARCH_TOOL)]
    tools_before = copy.deepcopy(tools)
    fake.add(Reply([Text("Looking."), ToolUse("search", {"pattern": "x ="}, id="toolu_1")]))
    fake.add(Reply([ToolUse("str_replace_based_edit_tool", EDIT_INPUT, id="toolu_2")]))
    fake.add(Reply.text("Done."))

    conversation = [Message("user", [TextBlock("Rename x to count in a.py")])]
    for result_text in ("a.py:1: x = 1", "edited"):
        result, _ = await turn(provider, request(*conversation, tools=tools))
        conversation.append(Message("assistant", list(result.content)))
        conversation.append(Message("user", [ToolResultBlock(result.tool_calls[0].id, result_text)]))
    await turn(provider, request(*conversation, tools=tools))

    assert tools == tools_before  # the caller's dicts are untouched
    bodies = [r.body for r in messages_sent(fake)]
    assert len(bodies) == 3
    for body in bodies:
        assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
        assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
        assert all("cache_control" not in tool for tool in body["tools"][:-1])
        assert body["tools"][0] == {**EDITOR_TOOL}
        assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
        assert len(cache_control_paths(body)) <= 4
    for previous, current in itertools.pairwise(bodies):
        # the cached prefix: byte-identical tools and system, and the previous messages unchanged
        for key in ("tools", "system"):
            assert json.dumps(current[key], sort_keys=False) == json.dumps(previous[key], sort_keys=False)
        old = without_cache_control(previous["messages"])
        assert without_cache_control(current["messages"])[: len(old)] == old
        # the breakpoint where the previous request ended stays, so the next read is exact
        assert current["messages"][len(old) - 1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert cache_control_paths(bodies[2]["messages"]) == ["[2].content[0]", "[4].content[0]"]
    assert bodies[2]["messages"][3]["content"][0]["type"] == "thinking"  # sent back as received
    assert bodies[2]["messages"][3]["content"][1] == {
        "type": "tool_use", "id": "toolu_2", "name": "str_replace_based_edit_tool", "input": EDIT_INPUT}
    assert bodies[2]["messages"][4]["content"][0] == {
        "type": "tool_result", "tool_use_id": "toolu_2", "content": "edited",
        "cache_control": {"type": "ephemeral"}}
    assert [m["role"] for m in bodies[2]["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert (bodies[0]["model"], bodies[0]["max_tokens"]) == (MODEL, 1024)
    assert "temperature" not in bodies[0]


async def test_cache_false_sends_no_breakpoints(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(Reply.text("ok"))
    conversation = [
        Message("user", [TextBlock("Hi")]),
        Message("assistant", [ToolUseBlock("toolu_9", "search", {"pattern": "y"})]),
        Message("user", [ToolResultBlock("toolu_9", "nothing found", is_error=True)]),
    ]
    await turn(provider, request(*conversation, cache=False))
    sent = fake.last_request
    assert "cache_control" not in sent.raw_body
    assert sent.body["system"] == [{"type": "text", "text": SYSTEM}]
    assert sent.body["messages"][2]["content"][0]["is_error"] is True


def test_request_body_is_deterministic_and_skips_what_the_api_rejects() -> None:
    req = TurnRequest(model=MODEL, system="", tools=[], max_tokens=10,
                      messages=[Message("user", [TextBlock(""), TextBlock("hi")])])
    body = request_body(req, SONNET)
    assert list(body) == ["model", "max_tokens", "thinking", "messages"]  # no empty system/tools
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]
    assert request_body(req, SONNET) == body


# -- faults and retries ---------------------------------------------------------------------------


async def test_rate_limit_honours_retry_after(
    fake: FakeMessagesAPI, provider: AnthropicProvider, sleeps: Recorder
) -> None:
    fake.add(Fault.error(429, retry_after=0.04), Reply.text("after the wait"))
    result, events = await turn(provider)

    assert visible(result.content) == [TextBlock("after the wait")]
    assert result.attempts == 2
    assert len(messages_sent(fake)) == 2
    assert sleeps.sleeps == [0.04]
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert len(retrying) == 1
    assert (retrying[0].attempt, retrying[0].delay_s) == (2, 0.04)
    assert retrying[0].reason.startswith("Anthropic API rate limit (429 rate_limit_error)")


async def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


async def test_overloaded_twice_then_success(
    fake: FakeMessagesAPI, provider: AnthropicProvider, sleeps: Recorder
) -> None:
    fake.add(Fault.error(529), Fault.error(529), Reply.text("finally"))
    result, events = await turn(provider)

    assert visible(result.content) == [TextBlock("finally")]
    assert result.attempts == 3
    assert len(messages_sent(fake)) == 3
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert [e.attempt for e in retrying] == [2, 3]
    assert all("overloaded" in e.reason for e in retrying)
    assert sleeps.sleeps == [e.delay_s for e in retrying]
    assert all(0 <= d <= 0.002 for d in sleeps.sleeps)  # base 0.001: jitter under 0.001, then 0.002


async def test_server_error_then_success(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(Fault.error(500), Reply.text("ok"))
    result, _ = await turn(provider)
    assert (visible(result.content), result.attempts) == ([TextBlock("ok")], 2)


async def test_bad_request_fails_at_once_with_a_clear_message(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake.add(Fault.error(400, "messages.0.content: text content blocks must be non-empty"), Reply.text("no"))
    with pytest.raises(ProviderFailure) as caught:
        await turn(provider)
    failure = caught.value
    assert len(messages_sent(fake)) == 1
    assert (failure.kind, failure.retryable, failure.status) == ("bad_request", False, 400)
    assert failure.attempts == 1
    assert str(failure) == ("Anthropic API rejected the request (400 invalid_request_error): "
                            "messages.0.content: text content blocks must be non-empty")


async def test_authentication_failure_says_where_the_key_comes_from(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake.add(Fault.error(401))
    with pytest.raises(ProviderFailure) as caught:
        await turn(provider)
    failure = caught.value
    assert (failure.kind, failure.retryable, failure.status) == ("auth", False, 401)
    assert str(failure) == ("Anthropic API rejected the API key (401 authentication_error): "
                            "invalid x-api-key; check ANTHROPIC_API_KEY, or model.api_key in your own config "
                            "(see agentls doctor)")
    assert len(messages_sent(fake)) == 1


async def test_a_stream_dropped_mid_tool_use_is_retried_whole(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    cut = Reply([Text("First try."), ToolUse("search", {"pattern": "a" * 80}, id="toolu_cut")], chunk_size=4,
                thinking=None)
    fake.add(Fault.drop(after_events=12, reply=cut))
    fake.add(Reply([ToolUse("search", {"pattern": "b"}, id="toolu_whole")]))
    result, events = await turn(provider)

    assert visible(result.content) == [ToolUseBlock("toolu_whole", "search", {"pattern": "b"})]
    assert result.attempts == 2
    started = [e.id for e in events if isinstance(e, ToolUseStarted)]
    assert started == ["toolu_cut", "toolu_whole"]  # the cut call started, and was discarded
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert len(retrying) == 1
    assert retrying[0].reason.startswith("Anthropic API stream broke off mid-turn (RemoteProtocolError")
    assert retrying[0].kind == "broken_stream"
    assert events.index(retrying[0]) < len(events) - 1


async def test_a_reset_connection_is_retried(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(Fault.drop(after_events=4, reset=True), Reply.text("ok"))
    result, events = await turn(provider)
    assert (visible(result.content), result.attempts) == ([TextBlock("ok")], 2)
    retrying = next(e for e in events if isinstance(e, Retrying))
    assert retrying.kind == "broken_stream"
    assert retrying.reason.startswith("Anthropic API stream broke off mid-turn (")


async def test_a_drop_before_any_response_is_a_connection_failure_and_retried(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake.add(Fault.drop(after_events=None), Reply.text("ok"))
    result, events = await turn(provider)
    assert result.attempts == 2
    retrying = next(e for e in events if isinstance(e, Retrying))
    assert retrying.reason.startswith(f"cannot reach the Anthropic API at {fake.base_url} (")
    assert retrying.kind == "connection"


async def test_a_mid_stream_error_event_is_retried(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake.add(Fault.error(529, after_events=5, reply=Reply.text("This reply is cut short.", thinking=None)),
             Reply.text("second"))
    result, events = await turn(provider)

    assert visible(result.content) == [TextBlock("second")]
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert [e.reason for e in retrying] == [
        "Anthropic API overloaded (overloaded_error mid-stream): Overloaded"]
    # the first attempt's partial text streamed, then was voided by the retry
    assert isinstance(events[0], TextDelta)
    assert "".join(e.text for e in events[events.index(retrying[0]):] if isinstance(e, TextDelta)) == "second"


async def test_a_stream_whose_body_just_ends_is_a_broken_turn(fake: FakeMessagesAPI) -> None:
    """A body that ends cleanly before message_delta gives a message without a stop_reason.

    The fake cannot end a stream early without an error, so the first attempt is served by an
    httpx2 mock transport (still through the real SDK); the retry goes to the fake.
    """
    import anthropic
    import httpx2

    from tests.fakes.messages_api import wire

    message = wire.render_message(Reply.text("partial text that never ends"), {"model": MODEL})
    events = list(wire.stream_events(message, 8))
    cut = b"".join(wire.sse_frame(name, data) for name, data in events if name != "message_delta"
                   and name != "message_stop")
    served: list[str] = []

    async def handler(req: httpx2.Request) -> httpx2.Response:
        if not served:
            served.append("cut")
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=cut)
        async with httpx2.AsyncClient() as real:
            served.append("fake")
            return await real.send(httpx2.Request(req.method, req.url, headers=req.headers,
                                                  content=await req.aread()))

    def factory(**kwargs: Any) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(**kwargs, http_client=httpx2.AsyncClient(
            transport=httpx2.MockTransport(handler)))

    provider = AnthropicProvider(settings(fake), client_factory=factory, sleep=Recorder())
    fake.add(Reply.text("whole"))
    try:
        result, events_seen = await turn(provider)
    finally:
        await provider.aclose()
    assert served == ["cut", "fake"]
    assert visible(result.content) == [TextBlock("whole")]
    assert result.attempts == 2
    retrying = [e for e in events_seen if isinstance(e, Retrying)]
    assert [e.reason for e in retrying] == ["Anthropic API stream ended before the turn was complete"]


async def test_attempts_exhausted_is_one_line(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    fake.add(*[Fault.error(529)] * 4)
    with pytest.raises(ProviderFailure) as caught:
        await turn(provider)
    failure = caught.value
    assert len(messages_sent(fake)) == 4
    assert (failure.kind, failure.retryable, failure.attempts) == ("overloaded", True, 4)
    message = str(failure)
    assert "\n" not in message
    assert message.startswith("Anthropic API overloaded: gave up after 4 attempts over ")
    assert message.endswith("; try again later")


async def test_the_circuit_breaker_opens_fails_fast_and_half_opens(fake: FakeMessagesAPI) -> None:
    now = [0.0]
    provider = AnthropicProvider(
        settings(fake, max_attempts=1, breaker_threshold=2, breaker_reset_s=30.0),
        clock=lambda: now[0],
    )
    try:
        fake.add(Fault.error(529), Fault.error(503))
        events: list[StreamEvent] = []
        for _ in range(2):
            with pytest.raises(ProviderFailure):
                await provider.stream_turn(request(), events.append)
        assert len(messages_sent(fake)) == 2
        # The turn that opened it says so (the dashboard's health view reads it from the store).
        assert [e for e in events if isinstance(e, CircuitChanged)] == [CircuitChanged("open", 2, "server", 30.0)]

        now[0] += 12
        with pytest.raises(ProviderFailure) as caught:
            await turn(provider)
        assert len(messages_sent(fake)) == 2  # failed fast, no request
        assert caught.value.kind == "circuit_open"
        assert str(caught.value) == ("Anthropic API unavailable: 2 turns in a row failed (last: server); "
                                     "will try again in 18 s")

        now[0] += 18
        fake.add(Reply.text("back"))
        result, events = await turn(provider)
        assert visible(result.content) == [TextBlock("back")]
        assert provider.resilience.breaker.state == "closed"
        assert [e for e in events if isinstance(e, CircuitChanged)] == [CircuitChanged("closed")]
        fake.add(Reply.text("again"))
        _, events = await turn(provider)
        assert not [e for e in events if isinstance(e, CircuitChanged)]  # only changes are told
    finally:
        await provider.aclose()


async def test_a_missing_key_fails_at_the_first_turn_without_a_request(fake: FakeMessagesAPI) -> None:
    made: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> Any:
        made.append(kwargs)
        raise AssertionError("no client should be built without a key")

    provider = AnthropicProvider(
        ModelSettings.model_validate({"name": MODEL, "base_url": fake.base_url}), client_factory=factory
    )
    for call in (provider.stream_turn(request()), provider.count_tokens(request())):
        with pytest.raises(ProviderFailure) as caught:
            await call
        assert caught.value.kind == "missing_key"
        assert not caught.value.retryable
        assert str(caught.value) == (
            "no Anthropic API key: set ANTHROPIC_API_KEY, or model.api_key in your own config (see agentls doctor)")
    assert fake.requests == []
    assert made == []
    await provider.aclose()


async def test_the_client_is_built_with_sdk_retries_off(fake: FakeMessagesAPI) -> None:
    import anthropic

    made: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> anthropic.AsyncAnthropic:
        made.append(kwargs)
        return anthropic.AsyncAnthropic(**kwargs)

    provider = AnthropicProvider(settings(fake), client_factory=factory)
    fake.add(Reply.text("ok"))
    await turn(provider)
    await provider.aclose()
    assert made == [{"api_key": "test-key", "base_url": fake.base_url, "timeout": 10.0, "max_retries": 0}]


# -- cancellation ---------------------------------------------------------------------------------


async def test_cancelling_mid_stream_closes_the_stream_and_does_not_retry(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    fake.add(Reply.text("slow " * 40, chunk_size=5, event_delay=0.1))
    fake.respond_with(lambda req: Reply.text("a retry must not happen"))
    events: list[StreamEvent] = []
    first_text = asyncio.Event()

    def on_event(event: StreamEvent) -> None:
        events.append(event)
        if isinstance(event, TextDelta):
            first_text.set()

    task = asyncio.create_task(provider.stream_turn(request(), on_event))
    await asyncio.wait_for(first_text.wait(), 5)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    assert len(messages_sent(fake)) == 1
    assert not any(isinstance(e, Retrying) for e in events)
    assert provider.resilience.breaker.consecutive_failures == 0
    # the connection was closed: the fake's next write fails and its connection thread ends
    server = fake._server
    assert server is not None
    for thread in server.connection_threads():
        await asyncio.to_thread(thread.join, 3)
        assert not thread.is_alive()


async def test_cancelling_before_the_response_arrives(
    fake: FakeMessagesAPI, provider: AnthropicProvider
) -> None:
    arrived = threading.Event()

    def slow(req: RecordedRequest) -> Fault:
        arrived.set()
        return Fault.delay(5.0, then=Reply.text("too late"))

    fake.add(slow)
    task = asyncio.create_task(provider.stream_turn(request()))
    assert await asyncio.to_thread(arrived.wait, 5)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    assert len(messages_sent(fake)) == 1


async def test_a_timeout_is_retried(fake: FakeMessagesAPI, sleeps: Recorder) -> None:
    # 0.5 s: room for the second answer on a loaded 2-core machine, well under the 3 s delay
    fast = settings(fake).model_copy(update={"timeout_s": 0.5})
    provider = AnthropicProvider(fast, sleep=sleeps)
    fake.add(Fault.delay(3.0), Reply.text("in time"))
    try:
        result, events = await turn(provider)
    finally:
        await provider.aclose()
    assert (visible(result.content), result.attempts) == ([TextBlock("in time")], 2)
    assert next(e for e in events if isinstance(e, Retrying)).reason.startswith("Anthropic API timed out")


# -- count_tokens ---------------------------------------------------------------------------------


async def test_count_tokens(fake: FakeMessagesAPI, provider: AnthropicProvider) -> None:
    req = request()
    counted = await provider.count_tokens(req)
    sent = fake.last_request
    assert sent.path == "/v1/messages/count_tokens"
    assert "cache_control" not in sent.raw_body
    counted_body = {k: sent.body[k] for k in ("system", "messages", "tools")}
    text = json.dumps(counted_body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert counted == max(1, -(-len(text) // 4))
    assert counted > 10
