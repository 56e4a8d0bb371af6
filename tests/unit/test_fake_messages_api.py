"""The fake Messages API, driven by the real `anthropic` SDK (never the real endpoint)."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic import Stream
from anthropic.types import Message

from tests.fakes.messages_api import (
    FakeMessagesAPI,
    Fault,
    RecordedRequest,
    Reply,
    ScriptError,
    Text,
    ToolUse,
    Usage,
    parse_script,
)
from tests.fakes.messages_api.fixture import fake_messages_api  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
MODEL = "claude-sonnet-4-6"  # a pre-5.x model: the wire format without thinking (see the 5.x tests)
HELLO: list[Any] = [{"role": "user", "content": "hello"}]
TOOL_INPUT: dict[str, Any] = {
    "command": "str_replace",
    "path": "src/a.py",
    "old_str": 'print("héllo")\n\tx = {"k": [1, 2.5, null]}',
    "new_str": "",
    "nested": {"list": [True, None, {"deep": "✓"}], "n": -3},
}


@pytest.fixture
def fake(fake_messages_api: FakeMessagesAPI) -> FakeMessagesAPI:  # noqa: F811
    return fake_messages_api


@pytest.fixture
def client(fake: FakeMessagesAPI) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.base_url, api_key="test-key", max_retries=0) as client:
        yield client


def estimate(body: dict[str, Any]) -> int:
    counted = {k: body[k] for k in ("system", "messages", "tools") if k in body}
    text = json.dumps(counted, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return max(1, math.ceil(len(text) / 4))


# -- replies -------------------------------------------------------------------------------------


def test_non_streaming_text(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply.text("Hello from the fake"))
    message = client.messages.create(model=MODEL, max_tokens=100, system="Be brief.", messages=HELLO)

    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [("text", "Hello from the fake")]
    assert message.id.startswith("msg_")
    assert len(message.id) > 20
    assert (message.role, message.type, message.model) == ("assistant", "message", MODEL)
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    sent = {"system": "Be brief.", "messages": HELLO}
    assert message.usage.input_tokens == estimate(sent)
    assert message.usage.output_tokens == math.ceil(len("Hello from the fake") / 4)
    assert (message.usage.cache_creation_input_tokens, message.usage.cache_read_input_tokens) == (0, 0)


def test_env_points_a_default_client_at_the_fake(
    fake: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    for name, value in fake.env(api_key="env-key").items():
        monkeypatch.setenv(name, value)
    fake.add(Reply.text("via env"))
    with anthropic.Anthropic(max_retries=0) as client:
        message = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert message.content[0].type == "text"
    assert message.content[0].text == "via env"
    assert fake.last_request.api_key == "env-key"


def test_streaming_text_events_and_final_message(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    text = "The quick brown fox jumps over the lazy dog, twice over."
    fake.add(Reply.text(text, chunk_size=8))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        events = list(stream)
        final = stream.get_final_message()

    deltas = [e.text for e in events if e.type == "text"]
    assert len(deltas) == math.ceil(len(text) / 8)
    assert all(0 < len(d) <= 8 for d in deltas)
    assert "".join(deltas) == text
    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    assert final.content[0].type == "text"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.id.startswith("msg_")
    assert final.usage.output_tokens == math.ceil(len(text) / 4)
    assert fake.last_request.is_stream
    assert fake.last_request.body["stream"] is True


def test_sse_frames_on_the_wire(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply(content=[Text("Let me look"), ToolUse("view", {"path": "a.py"})]))
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=100, messages=HELLO, stream=True
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["request-id"].startswith("req_")
        frames = list(Stream.raw_events(response.http_response))

    for frame in frames:  # every frame: an `event:` line and a `data:` line naming the same type
        assert [line.split(":", 1)[0] for line in frame.raw] == ["event", "data"]
        assert frame.json()["type"] == frame.event
    names = [f.event for f in frames]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    start = frames[0].json()["message"]
    assert start["content"] == []
    assert start["stop_reason"] is None
    assert start["usage"]["input_tokens"] > 0
    starts = [f.json() for f in frames if f.event == "content_block_start"]
    assert [(s["index"], s["content_block"]["type"]) for s in starts] == [(0, "text"), (1, "tool_use")]
    assert starts[1]["content_block"]["input"] == {}
    assert [f.json()["index"] for f in frames if f.event == "content_block_stop"] == [0, 1]
    delta = next(f.json() for f in frames if f.event == "message_delta")
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None, "stop_details": None,
                              "container": None}
    assert delta["usage"]["output_tokens"] > 1


async def test_async_streamed_tool_use_input_arrives_as_the_exact_dict(fake: FakeMessagesAPI) -> None:
    fake.add(Reply(content=[ToolUse("str_replace_based_edit_tool", TOOL_INPUT)], stop_reason="tool_use"))
    client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test-key", max_retries=0)
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        pieces = [e.partial_json async for e in stream if e.type == "input_json"]
        final = await stream.get_final_message()

    assert len(pieces) > 3
    assert pieces[0] == ""
    assert json.loads("".join(pieces)) == TOOL_INPUT
    (block,) = final.content
    assert block.type == "tool_use"
    assert block.input == TOOL_INPUT
    assert block.name == "str_replace_based_edit_tool"
    assert block.id.startswith("toolu_")
    assert final.stop_reason == "tool_use"
    await client.close()


@pytest.mark.parametrize("stream", [False, True])
def test_text_and_tool_use_in_one_message(
    fake: FakeMessagesAPI, client: anthropic.Anthropic, stream: bool
) -> None:
    fake.add(
        Reply(content=[Text("Let me look"), ToolUse("view", {"path": "a.py"}, id="toolu_given")]),
        Reply(content=[Text("Two tools"), ToolUse("a", {}), ToolUse("b", {"x": 1})]),
    )
    messages: list[Message] = []
    for _ in range(2):
        if stream:
            with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as s:
                messages.append(s.get_final_message())
        else:
            messages.append(client.messages.create(model=MODEL, max_tokens=100, messages=HELLO))

    first, second = messages
    assert [b.type for b in first.content] == ["text", "tool_use"]
    assert first.content[0].text == "Let me look"  # type: ignore[union-attr]
    tool = first.content[1]
    assert tool.type == "tool_use"
    assert (tool.id, tool.name, tool.input) == ("toolu_given", "view", {"path": "a.py"})
    assert first.stop_reason == "tool_use"  # inferred from the ToolUse
    ids = [b.id for b in second.content if b.type == "tool_use"]
    assert len(set(ids)) == 2
    assert all(i.startswith("toolu_") for i in ids)
    assert [b.input for b in second.content if b.type == "tool_use"] == [{}, {"x": 1}]


@pytest.mark.parametrize("stream", [False, True])
def test_usage_is_configurable(fake: FakeMessagesAPI, client: anthropic.Anthropic, stream: bool) -> None:
    usage = Usage(
        input_tokens=7, output_tokens=11, cache_creation_input_tokens=300, cache_read_input_tokens=4000
    )
    fake.add(Reply.text("cached", usage=usage, model="claude-other", id="msg_fixed"))
    message: Message
    if stream:
        with client.messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as s:
            message = s.get_final_message()
    else:
        message = client.messages.create(model=MODEL, max_tokens=100, messages=HELLO)
    got = message.usage
    assert (got.input_tokens, got.output_tokens) == (7, 11)
    assert (got.cache_creation_input_tokens, got.cache_read_input_tokens) == (300, 4000)
    assert (message.model, message.id) == ("claude-other", "msg_fixed")


def test_count_tokens_is_a_deterministic_estimate(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    tools: Any = [{"name": "view", "description": "View a file", "input_schema": {"type": "object"}}]
    small = client.messages.count_tokens(model=MODEL, messages=HELLO)
    big = client.messages.count_tokens(model=MODEL, system="x" * 400, messages=HELLO, tools=tools)

    assert small.input_tokens == estimate({"messages": HELLO})
    assert big.input_tokens == estimate({"system": "x" * 400, "messages": HELLO, "tools": tools})
    assert big.input_tokens > small.input_tokens + 100
    assert client.messages.count_tokens(model=MODEL, messages=HELLO).input_tokens == small.input_tokens
    assert [r.path for r in fake.requests] == ["/v1/messages/count_tokens"] * 3
    assert fake.exhausted == []  # count_tokens does not use the script


# -- errors and faults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "exc_class", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_error_responses(
    fake: FakeMessagesAPI,
    client: anthropic.Anthropic,
    status: int,
    exc_class: type[anthropic.APIStatusError],
    error_type: str,
) -> None:
    fake.add(Fault.error(status, f"scripted {status}"))
    with pytest.raises(exc_class) as caught:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    err = caught.value
    assert type(err) is exc_class
    assert err.status_code == status
    assert (err.type, err.api_message) == (error_type, f"scripted {status}")
    assert err.request_id is not None
    assert err.request_id.startswith("req_")
    assert err.body == {
        "type": "error",
        "error": {"type": error_type, "message": f"scripted {status}"},
        "request_id": err.request_id,
    }
    # SDK >= 2.17 builds the text from the body's message and type, the request-id header and the path
    where = f"request_id: {err.request_id}, path: /v1/messages, type: {error_type}"
    assert str(err) == f"{status} scripted {status} ({where})"
    assert err.response.headers.get("retry-after") == ("0" if status == 429 else None)
    assert len(fake.requests) == 1


def test_overloaded_is_an_internal_server_error_with_status_529(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    fake.add(Fault.error(529))
    with pytest.raises(anthropic.InternalServerError) as caught:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 529
    assert caught.value.api_message == "Overloaded"


def test_rate_limit_then_success_with_default_retries(fake: FakeMessagesAPI) -> None:
    fake.add(Fault.error(429, retry_after=0), Reply.text("after the retry"))
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="test-key")  # default max_retries=2

    message = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert message.content[0].type == "text"
    assert message.content[0].text == "after the retry"
    first, second = fake.requests
    assert [first.headers["x-stainless-retry-count"], second.headers["x-stainless-retry-count"]] == ["0", "1"]
    assert first.body == second.body
    assert first.served.startswith("ErrorFault(429")
    assert second.served.startswith("Reply")


def test_dropped_stream_is_a_connection_error_caused_by_the_httpx_error(fake: FakeMessagesAPI) -> None:
    """Since SDK 2.17 a body that breaks off is an ``APIConnectionError`` naming the host, from the httpx error."""
    fake.add(Fault.drop(after_events=5, reply=Reply.text("abcdefghijklmnopqrstuvwxyz", chunk_size=4)))
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="test-key")  # retries on: not used
    received: list[str] = []
    with (
        pytest.raises(anthropic.APIConnectionError, match="incomplete chunked read") as caught,
        client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream,
    ):
        received.extend(stream.text_stream)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert f"Connection to {fake.base_url.removeprefix('http://')} failed" in str(caught.value)

    # message_start, content_block_start, ping, 2 deltas: then the socket closed
    assert received == ["abcd", "efgh"]
    assert len(fake.requests) == 1  # the SDK does not retry a stream that broke after the headers


def test_reset_stream_is_a_connection_error_caused_by_a_read_error(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    fake.add(Fault.drop(after_events=2, reset=True))
    with (
        pytest.raises(anthropic.APIConnectionError) as caught,
        client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as s,
    ):
        s.until_done()
    assert isinstance(caught.value.__cause__, httpx2.ReadError)
    assert not isinstance(caught.value, anthropic.APITimeoutError)


def test_drop_before_a_response_or_mid_body_is_a_connection_error(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    fake.add(Fault.drop(after_events=None), Fault.drop(after_events=0))
    with pytest.raises(anthropic.APIConnectionError) as before:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO, stream=True)
    assert isinstance(before.value.__cause__, httpx2.RemoteProtocolError)
    with pytest.raises(anthropic.APIConnectionError) as mid_body:  # non-streaming: half the JSON, then close
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert "expected" in str(mid_body.value.__cause__)
    assert not isinstance(before.value, anthropic.APITimeoutError)


def test_mid_stream_error_event(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Fault.error(529, after_events=4), Fault.error(529, after_events=4))
    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream,
    ):
        stream.until_done()
    err = caught.value
    # the HTTP status was 200: the SDK raises the base APIStatusError, not OverloadedError
    assert type(err) is anthropic.APIStatusError
    assert err.status_code == 200
    assert (err.type, err.api_message) == ("overloaded_error", "Overloaded")
    with pytest.raises(anthropic.OverloadedError):  # the same fault on a non-streaming request
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)


def test_delay_longer_than_the_timeout(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Fault.delay(0.2, then=Reply.text("late")), Fault.delay(2.0))
    started = time.monotonic()
    message = client.with_options(timeout=2.0).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert message.content[0].type == "text"
    assert message.content[0].text == "late"
    assert time.monotonic() - started >= 0.2

    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        client.with_options(timeout=0.1).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert time.monotonic() - started < 1.0


def test_script_exhausted_explains_itself(fake: FakeMessagesAPI) -> None:
    fake.add(Reply.text("only one"))
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="test-key")  # default retries
    client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    with pytest.raises(anthropic.InternalServerError, match="script exhausted") as caught:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert caught.value.status_code == 500
    assert caught.value.type == "api_error"
    assert "request #1" in str(caught.value)
    assert "1 scripted item" in str(caught.value)
    assert len(fake.requests) == 2  # x-should-retry: false, so no retries
    assert [r.index for r in fake.exhausted] == [1]
    assert fake.requests[1].served == "script exhausted"
    assert fake.remaining == 0


# -- scripting and recording ---------------------------------------------------------------------


def test_callables_and_responder(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    def echo(request: RecordedRequest) -> Reply:
        return Reply.text(f"echo: {request.body['messages'][-1]['content']}")

    def broken(request: RecordedRequest) -> Reply:
        raise ValueError("oops")

    fake.add(lambda request: Reply.text(f"{len(request.body['messages'])} message(s)"), broken)
    fake.respond_with(echo)

    def ask(text: str) -> str:
        message = client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": text}]
        )
        block = message.content[0]
        return block.text if block.type == "text" else ""

    assert ask("a") == "1 message(s)"
    with pytest.raises(anthropic.InternalServerError, match="ValueError"):
        ask("b")
    assert ask("c") == "echo: c"
    assert ask("d") == "echo: d"
    assert len(fake.errors) == 1
    assert "oops" in fake.errors[0]
    assert [r.served.split(" ")[0] for r in fake.requests] == ["callable", "scripted", "callable", "callable"]
    fake.respond_with(None)
    with pytest.raises(anthropic.InternalServerError, match="script exhausted"):
        ask("e")


def test_recorded_requests_hold_what_the_client_sent(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    system: Any = [{"type": "text", "text": "You are an agent.", "cache_control": {"type": "ephemeral"}}]
    tools: Any = [
        {"name": "view", "description": "View", "input_schema": {"type": "object", "properties": {}}}
    ]
    fake.add(Reply.tool_use("view", {"path": "a.py"}, id="toolu_1", text="Looking"), Reply.text("done"))

    first = client.messages.create(model=MODEL, max_tokens=50, system=system, tools=tools, messages=HELLO)
    followup: Any = [
        *HELLO,
        first.to_param(),
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x = 1"}]},
    ]
    client.messages.create(model=MODEL, max_tokens=50, system=system, tools=tools, messages=followup)

    one, two = fake.requests
    assert (one.method, one.path, one.query) == ("POST", "/v1/messages", "")
    assert one.body == {"model": MODEL, "max_tokens": 50, "system": system, "tools": tools, "messages": HELLO}
    assert one.api_key == "test-key"
    assert one.headers["anthropic-version"]
    assert two.body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Looking"},
            {"type": "tool_use", "id": "toolu_1", "name": "view", "input": {"path": "a.py"}},
        ],
    }
    assert two.body["messages"][2]["content"][0]["type"] == "tool_result"
    assert two.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert json.loads(two.raw_body) == two.body


def test_requests_the_api_would_reject_get_a_400(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply.text("kept"))
    unanswered: Any = [
        *HELLO,
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_9", "name": "view", "input": {}}],
        },
        {"role": "user", "content": "no tool_result here"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="`tool_use` ids were found without `tool_result`"):
        client.messages.create(model=MODEL, max_tokens=10, messages=unanswered)
    block: Any = {"type": "text", "text": "t", "cache_control": {"type": "ephemeral"}}
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks with cache_control"):
        client.messages.create(model=MODEL, max_tokens=10, system=[block] * 5, messages=HELLO)

    assert fake.remaining == 1  # rejected requests do not consume the script
    assert fake.requests[0].served.startswith("invalid request")
    assert client.messages.create(model=MODEL, max_tokens=10, messages=HELLO).content[0].type == "text"


def test_concurrent_requests_are_all_recorded(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.respond_with(lambda request: Reply.text(request.body["messages"][0]["content"]))
    answers: dict[str, str] = {}

    def ask(text: str) -> None:
        block = client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": text}]
        )
        answers[text] = block.content[0].text if block.content[0].type == "text" else ""

    threads = [threading.Thread(target=ask, args=(f"q{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {f"q{i}": f"q{i}" for i in range(8)}
    assert sorted(r.index for r in fake.requests) == list(range(8))


def test_parse_script_vocabulary() -> None:
    items = parse_script(
        [
            {"text": "hi"},
            {
                "content": [{"type": "tool_use", "name": "view", "input": {"p": 1}}],
                "usage": {"input_tokens": 3},
            },
            {"fault": "error", "status": 429, "retry_after": 0.5},
            {"fault": "drop", "after_events": None},
            {"fault": "delay", "seconds": 0.1, "then": {"fault": "error", "status": 529}},
        ]
    )
    assert items[0] == Reply.text("hi")
    assert items[1] == Reply(content=[ToolUse("view", {"p": 1})], usage=Usage(input_tokens=3))
    assert items[2] == Fault.error(429, retry_after=0.5)
    assert items[3] == Fault.drop(after_events=None)
    assert items[4] == Fault.delay(0.1, then=Fault.error(529))
    for bad in ([{"txt": "typo"}], [{"fault": "explode"}], [{"text": "a", "content": []}], {"text": "x"}):
        with pytest.raises(ScriptError):
            parse_script(bad)


# -- lifecycle and standalone mode -----------------------------------------------------------------


def _fake_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fake-messages-api")]


def test_stop_ends_connections_threads_and_port() -> None:
    outcome: list[BaseException] = []
    with FakeMessagesAPI([Reply.text("warm"), Fault.delay(30.0)]) as fake:
        port = fake.port
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="test-key", max_retries=0)
        client.messages.create(model=MODEL, max_tokens=5, messages=HELLO)  # leaves a keep-alive connection

        def stuck() -> None:
            try:
                client.messages.create(model=MODEL, max_tokens=5, messages=HELLO)
            except anthropic.APIError as exc:
                outcome.append(exc)

        caller = threading.Thread(target=stuck)
        caller.start()
        while len(fake.requests) < 2:
            time.sleep(0.005)
        assert _fake_threads()
        started = time.monotonic()
    assert time.monotonic() - started < 2.0  # the 30 s delay was interrupted
    caller.join(timeout=5)
    assert isinstance(outcome[0], anthropic.APIConnectionError)
    assert _fake_threads() == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    fake.stop()  # idempotent


def test_standalone_mode(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([{"text": "from the standalone fake"}]))
    log = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "tests.fakes.messages_api", "--script", str(script), "--log", str(log)]
    with subprocess.Popen([*command, "--port", "0"], cwd=REPO, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("PORT=")
            base_url = f"http://127.0.0.1:{line.removeprefix('PORT=')}"
            client = anthropic.Anthropic(base_url=base_url, api_key="test-key", max_retries=0)
            message = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
            assert message.content[0].type == "text"
            assert message.content[0].text == "from the standalone fake"
        finally:
            proc.terminate()
            assert proc.wait(timeout=5) == 0
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert (entry["method"], entry["path"], entry["index"]) == ("POST", "/v1/messages", 0)
    assert entry["body"] == {"model": MODEL, "max_tokens": 10, "messages": HELLO}
    assert entry["headers"]["authorization"] == "Bearer test-key"
    assert entry["served"].startswith("Reply")


def test_standalone_mode_rejects_a_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([{"txt": "typo"}]))
    result = subprocess.run(
        [sys.executable, "-m", "tests.fakes.messages_api", "--script", str(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2
    assert "unknown key(s) ['txt']" in result.stderr
    assert result.stdout == ""
