"""The fake Messages API enforces today's rules for the current (5.x) models, through the real SDK.

Thinking on by default with signed blocks that must come back verbatim (the latest assistant turn,
the prefix check, `drop_block`), no sampling parameters, no forced tool choice, no prefill, no
empty content, `max_tokens` within the model's limit, the new stop reasons and the Models API.
The wire-format basics are in test_fake_messages_api.py (on a pre-5.x model).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.messages_api import (
    AUTO_THINKING,
    FakeMessagesAPI,
    RedactedThinking,
    Reply,
    ServerResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolUse,
    custom,
    parse_script,
)
from tests.fakes.messages_api.binding import BINDING_BETA

MODEL = "claude-sonnet-5-5"
HELLO: list[Any] = [{"role": "user", "content": "hello"}]
TOOLS: list[Any] = [{"name": "search", "description": "Search.", "input_schema": {"type": "object"}}]
SUMMARIZED = {"type": "adaptive", "display": "summarized"}
LONG_NOTE = "I will look for the definition of the function first, then read the file that calls it to see why."


@pytest.fixture
def fake(fake_messages_api: FakeMessagesAPI) -> FakeMessagesAPI:
    return fake_messages_api


@pytest.fixture
def client(fake: FakeMessagesAPI) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.base_url, api_key="test-key", max_retries=0) as client:
        yield client


def blocks(message: Any) -> list[dict[str, Any]]:
    return [b.to_dict() for b in message.content]


def rejected(client: anthropic.Anthropic, **kwargs: Any) -> str:
    """The message of the 400 the request gets."""
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("max_tokens", 1000)
    with pytest.raises(anthropic.BadRequestError) as caught, client.messages.stream(**kwargs) as stream:
        stream.get_final_message()
    return str(caught.value.body["error"]["message"])  # type: ignore[index]


def tool_turn(client: anthropic.Anthropic, fake: FakeMessagesAPI, **kwargs: Any) -> list[Any]:
    """A first request answered with a tool call; returns the conversation ready for the next request."""
    fake.add(Reply([Text("Searching."), ToolUse("search", {"q": "x"}, id="toolu_1")]))
    first = client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, tools=TOOLS, **kwargs)
    return [*HELLO, {"role": "assistant", "content": blocks(first)},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "found"}]}]


# -- thinking as the current models send it ------------------------------------------------------


def test_thinking_is_on_by_default_and_omitted(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply.text("hi"))
    message = client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO)
    first, text = blocks(message)
    assert first["type"] == "thinking"
    assert first["thinking"] == ""
    assert first["signature"].startswith("Ep")
    assert text == {"type": "text", "text": "hi"}
    assert message.usage.output_tokens_details is not None
    assert message.usage.output_tokens_details.thinking_tokens > 0  # omitted text still costs its tokens


def test_summarized_thinking_streams_as_thinking_and_signature_deltas(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    fake.add(Reply.text("hi", chunk_size=8))
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=HELLO, thinking=SUMMARIZED) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
        message = stream.get_final_message()
    assert deltas.count("signature_delta") == 1
    assert deltas.index("signature_delta") == max(i for i, d in enumerate(deltas) if d == "thinking_delta") + 1
    assert blocks(message)[0]["thinking"] == AUTO_THINKING


def test_omitted_thinking_streams_only_its_signature(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply.text("hi"))
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=HELLO) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
    assert "thinking_delta" not in deltas
    assert deltas[0] == "signature_delta"


def test_notes_before_a_tool_call_arrive_as_thinking(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    script = Reply([Text(LONG_NOTE), ToolUse("search", {"q": "f"}), Text("ok"), ToolUse("search", {"q": "g"})],
                   thinking=None)
    fake.add(script, script, script)
    omitted = blocks(client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, tools=TOOLS))
    assert [b["type"] for b in omitted] == ["thinking", "tool_use", "text", "tool_use"]
    assert omitted[0]["thinking"] == ""  # silent unless the client asks for the text
    shown = blocks(client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, tools=TOOLS,
                                          thinking=SUMMARIZED))
    assert shown[0]["thinking"] == LONG_NOTE
    between = blocks(client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, tools=TOOLS,
                                            thinking={"type": "between_tools"}))
    assert between[0]["thinking"] == LONG_NOTE


def test_between_tools_has_no_up_front_thinking(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply.text("hi"))
    message = client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, thinking={"type": "between_tools"})
    assert [b["type"] for b in blocks(message)] == ["text"]


def test_pre_5_models_do_not_think_unless_asked(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply.text("hi"), Reply.text("hi"))
    plain = client.messages.create(model="claude-sonnet-4-6", max_tokens=1000, messages=HELLO)
    assert [b["type"] for b in blocks(plain)] == ["text"]
    asked = client.messages.create(model="claude-sonnet-4-6", max_tokens=1000, messages=HELLO,
                                   thinking={"type": "adaptive"})
    assert blocks(asked)[0]["thinking"] == AUTO_THINKING  # summarized is the old default


# -- thinking blocks go back verbatim -----------------------------------------------------------


def test_a_tool_loop_that_sends_everything_back_verbatim_works(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    messages = tool_turn(client, fake)
    fake.add(Reply.text("done"))
    final = client.messages.create(model=MODEL, max_tokens=1000, messages=messages, tools=TOOLS)
    assert blocks(final)[-1]["text"] == "done"
    messages += [{"role": "assistant", "content": blocks(final)}, {"role": "user", "content": "thanks"}]
    fake.add(Reply.text("welcome"))
    assert client.messages.create(model=MODEL, max_tokens=1000, messages=messages, tools=TOOLS).content


def test_dropping_the_thinking_of_the_tool_turn_is_a_400(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    messages = tool_turn(client, fake)
    messages[1]["content"] = [b for b in messages[1]["content"] if b["type"] != "thinking"]
    message = rejected(client, messages=messages, tools=TOOLS)
    assert message == ("messages.1.content.0: `thinking` or `redacted_thinking` blocks in the latest assistant "
                       "message cannot be modified. These blocks must remain as they were in the original response.")


def test_moving_a_thinking_block_is_a_400(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    messages = tool_turn(client, fake)
    content = messages[1]["content"]
    messages[1]["content"] = [*content[1:], content[0]]
    assert "latest assistant message cannot be modified" in rejected(client, messages=messages, tools=TOOLS)


def test_editing_summarized_thinking_or_its_signature_is_a_400(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    messages = tool_turn(client, fake, thinking=SUMMARIZED)
    edited = copy.deepcopy(messages)
    edited[1]["content"][0]["thinking"] = "something else"
    assert rejected(client, messages=edited, tools=TOOLS) == \
        "messages.1.content.0: Invalid `signature` in `thinking` block"
    forged = copy.deepcopy(messages)
    forged[1]["content"][0]["signature"] = forged[1]["content"][0]["signature"][:-4] + "AAAA"
    assert "Invalid `signature`" in rejected(client, messages=forged, tools=TOOLS)


def test_cache_control_on_a_thinking_block_is_a_400(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    messages = tool_turn(client, fake)
    messages[1]["content"][0]["cache_control"] = {"type": "ephemeral"}
    assert rejected(client, messages=messages, tools=TOOLS) == \
        "messages.1.content.0.thinking.cache_control: Extra inputs are not permitted"


def test_redacted_thinking_round_trips(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply([RedactedThinking(), Thinking("more"), ToolUse("search", {}, id="toolu_r")]))
    first = client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, tools=TOOLS)
    assert [b["type"] for b in blocks(first)] == ["redacted_thinking", "thinking", "tool_use"]
    messages = [*HELLO, {"role": "assistant", "content": blocks(first)},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_r", "content": "x"}]}]
    fake.add(Reply.text("ok"))
    assert client.messages.create(model=MODEL, max_tokens=1000, messages=messages, tools=TOOLS)
    messages[1]["content"][0]["data"] = "garbled"
    assert rejected(client, messages=messages, tools=TOOLS) == \
        "messages.1.content.0: Invalid `data` in `redacted_thinking` block"


def three_turns(client: anthropic.Anthropic, fake: FakeMessagesAPI, system: str = "Be brief.") -> list[Any]:
    """A conversation of two tool turns, each with thinking, ready for a third request."""
    messages: list[Any] = list(HELLO)
    for n in (1, 2):
        fake.add(Reply([ToolUse("search", {"n": n}, id=f"toolu_{n}")]))
        turn = client.messages.create(model=MODEL, max_tokens=1000, system=system, messages=messages, tools=TOOLS)
        messages += [{"role": "assistant", "content": blocks(turn)},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{n}",
                                                   "content": f"result {n}"}]}]
    return messages


def test_a_changed_prefix_binds_the_blocks_to_a_different_conversation(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    messages = three_turns(client, fake)
    message = rejected(client, system="Be very brief.", messages=messages, tools=TOOLS)
    assert message == ("messages.1.content.0: Invalid `signature` in `thinking` block. The block is bound to a "
                       "different conversation. Remove the block, or set "
                       "`thinking.block_binding.prefix_mismatch_behavior` to \"drop_block\". That setting requires "
                       f"the `{BINDING_BETA}` value in the `anthropic-beta` header.")
    edited = copy.deepcopy(messages)
    edited[2]["content"][0]["content"] = "a different result"  # an earlier tool result rewritten
    assert "messages.3.content.0: Invalid `signature`" in rejected(client, system="Be brief.", messages=edited,
                                                                   tools=TOOLS)


def test_drop_block_drops_the_invalid_blocks_and_says_which(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    messages = three_turns(client, fake)
    fake.add(Reply.text("done"))
    message = client.messages.create(
        model=MODEL, max_tokens=1000, system="Be very brief.", messages=messages, tools=TOOLS,
        thinking={"type": "adaptive", "block_binding": {"prefix_mismatch_behavior": "drop_block"}},
        extra_headers={"anthropic-beta": BINDING_BETA})
    assert message.to_dict()["input_transformations"] == [
        {"type": "thinking_dropped", "path": "messages.1.content.0", "reason": "prefix_binding_mismatch"},
        {"type": "thinking_dropped", "path": "messages.3.content.0", "reason": "prefix_binding_mismatch"}]
    assert "block_binding: Extra inputs are not permitted" in rejected(
        client, messages=HELLO, thinking={"type": "adaptive", "block_binding": {"prefix_mismatch_behavior": "error"}})


def test_removing_thinking_oldest_first_is_allowed_but_not_from_the_middle(
    fake: FakeMessagesAPI, client: anthropic.Anthropic
) -> None:
    messages = three_turns(client, fake)
    leading = copy.deepcopy(messages)
    leading[1]["content"] = [b for b in leading[1]["content"] if b["type"] != "thinking"]
    fake.add(Reply.text("done"))
    assert client.messages.create(model=MODEL, max_tokens=1000, system="Be brief.", messages=leading, tools=TOOLS)
    three = three_turns(client, fake)
    three[4:] = [three[4], {"role": "assistant", "content": [{"type": "text", "text": "noted"}]},
                 {"role": "user", "content": "go on"}]
    fake.add(Reply([ToolUse("search", {}, id="toolu_3")]))
    turn = client.messages.create(model=MODEL, max_tokens=1000, system="Be brief.", messages=three, tools=TOOLS)
    middle = [*three, {"role": "assistant", "content": blocks(turn)},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_3", "content": "r"}]}]
    middle[3]["content"] = [b for b in middle[3]["content"] if b["type"] != "thinking"]
    assert "bound to a different conversation" in rejected(client, system="Be brief.", messages=middle, tools=TOOLS)


# -- requests the current models reject -----------------------------------------------------------


def test_sampling_parameters_are_gone(client: anthropic.Anthropic) -> None:
    assert rejected(client, messages=HELLO, extra_body={"temperature": 0.2}) == \
        "temperature: Extra inputs are not permitted"
    assert rejected(client, messages=HELLO, extra_body={"top_p": 0.9}) == "top_p: Extra inputs are not permitted"


def test_forced_tool_choice(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    assert rejected(client, messages=HELLO, tools=TOOLS, tool_choice={"type": "any"}) == \
        'tool_choice: type "tool" and "any" are not supported for this model.'
    fake.add(Reply([ToolUse("search", {})]))
    assert client.messages.create(model="claude-haiku-5-5", max_tokens=1000, messages=HELLO, tools=TOOLS,
                                  tool_choice={"type": "tool", "name": "search"})


def test_prefill_is_rejected_on_current_models_only(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    prefill = [*HELLO, {"role": "assistant", "content": "The answer is"}]
    assert rejected(client, messages=prefill) == ("This model does not support assistant message prefill. "
                                                  "The conversation must end with a user message.")
    fake.add(Reply.text(" 42"))
    assert client.messages.create(model="claude-opus-4-5", max_tokens=1000, messages=prefill)


def test_empty_content(client: anthropic.Anthropic) -> None:
    assert rejected(client, messages=[{"role": "user", "content": []}]) == \
        "messages.0: all messages must have non-empty content except for the optional final assistant message"
    assert rejected(client, messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]) == \
        "messages: text content blocks must be non-empty"


def test_an_assistant_message_of_only_thinking_is_a_400(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    fake.add(Reply([Thinking("long thoughts")], stop_reason="max_tokens"))
    cut = client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO)
    assert cut.stop_reason == "max_tokens"
    messages = [*HELLO, {"role": "assistant", "content": blocks(cut)}, {"role": "user", "content": "go on"}]
    assert rejected(client, messages=messages) == \
        "messages.1: The final block in an assistant message cannot be `thinking`."


def test_max_tokens_over_the_model_limit(client: anthropic.Anthropic) -> None:
    assert rejected(client, messages=HELLO, max_tokens=200_000) == (
        "max_tokens: 200000 > 128000, which is the maximum allowed number of output tokens for claude-sonnet-5-5")
    assert "> 64000" in rejected(client, model="claude-haiku-4-5", messages=HELLO, max_tokens=100_000)


def test_thinking_types_and_effort(client: anthropic.Anthropic) -> None:
    assert rejected(client, messages=HELLO, thinking={"type": "disabled"}).startswith(
        '"thinking.type.disabled" is not supported for this model. Use "thinking.type.between_tools"')
    assert rejected(client, messages=HELLO, thinking={"type": "enabled", "budget_tokens": 2000}).startswith(
        '"thinking.type.enabled" is not supported for this model.')
    assert rejected(client, model="claude-opus-5-5", messages=HELLO, thinking={"type": "between_tools"}) == \
        '"thinking.type.between_tools" is not supported for this model.'
    assert "Extra inputs" in rejected(client, messages=HELLO, thinking={"type": "between_tools", "display": "omitted"})
    assert "is not supported when thinking is disabled" in rejected(
        client, messages=HELLO, thinking={"type": "between_tools"}, output_config={"effort": "max"})
    assert rejected(client, messages=HELLO, output_config={"effort": "extreme"}).startswith("output_config.effort")
    assert rejected(client, model="claude-opus-4-6", messages=HELLO, output_config={"effort": "xhigh"}) == \
        "output_config.effort 'xhigh' is not supported for this model"


def test_unknown_models_are_404(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError, match="model: claude-nonexistent"):
        client.messages.create(model="claude-nonexistent", max_tokens=10, messages=HELLO)


def test_a_prompt_over_the_context_window() -> None:
    with FakeMessagesAPI(models=[custom("claude-tiny", context_window=100)]) as fake, \
            anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as client:
        message = rejected(client, model="claude-tiny", messages=[{"role": "user", "content": "x" * 1000}])
        assert message.startswith("prompt is too long: ")
        assert message.endswith(" tokens > 100 maximum")


# -- stop reasons and server tools ----------------------------------------------------------------


def test_a_paused_turn_continues_when_sent_back_as_is(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    web = [{"type": "web_search_20260318", "name": "web_search"}]
    fake.add(Reply([ServerToolUse("web_search", {"query": "pygls"})], stop_reason="pause_turn"))
    paused = client.messages.create(model=MODEL, max_tokens=1000, messages=HELLO, tools=web)
    assert paused.stop_reason == "pause_turn"
    assert paused.usage.server_tool_use is not None
    assert paused.usage.server_tool_use.web_search_requests == 1
    messages = [*HELLO, {"role": "assistant", "content": blocks(paused)}]
    fake.add(Reply([ServerResult("web_search_tool_result", []), Text("Nothing found.")]))
    done = client.messages.create(model=MODEL, max_tokens=1000, messages=messages, tools=web)
    result = blocks(done)
    assert result[0]["tool_use_id"] == blocks(paused)[1]["id"]  # the result first, then the model thinks
    merged = [*HELLO, {"role": "assistant", "content": blocks(paused) + result}, {"role": "user", "content": "ok"}]
    fake.add(Reply.text("bye"))
    assert client.messages.create(model=MODEL, max_tokens=1000, messages=merged, tools=web)
    invented = [*HELLO, {"role": "assistant", "content": [{"type": "text", "text": "I paused"}]}]
    assert "prefill" in rejected(client, messages=invented, tools=web)


def test_refusal_details(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "This could enable cyber harm."}
    fake.add(Reply([], stop_reason="refusal", stop_details=details, thinking=None))
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=HELLO) as stream:
        message = stream.get_final_message()
    assert (message.stop_reason, message.content) == ("refusal", [])
    assert message.stop_details is not None
    assert message.stop_details.category == "cyber"


def test_code_execution_reports_its_container(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    output = {"type": "bash_code_execution_result", "stdout": "ok\n", "stderr": "", "return_code": 0,
              "content": [{"type": "bash_code_execution_output", "file_id": "file_01"}]}
    fake.add(Reply([ServerToolUse("bash_code_execution", {"command": "python plot.py"}),
                    ServerResult("bash_code_execution_tool_result", output), Text("Made a chart.")]))
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=HELLO,
                                tools=[{"type": "code_execution_20260521", "name": "code_execution"}]) as stream:
        message = stream.get_final_message()
    assert message.container is not None
    assert message.container.id.startswith("container_")
    kinds = [b["type"] for b in blocks(message)]
    assert kinds == ["thinking", "server_tool_use", "bash_code_execution_tool_result", "text"]


def test_the_models_api(fake: FakeMessagesAPI, client: anthropic.Anthropic) -> None:
    info = client.models.retrieve("claude-sonnet-5-5")
    assert (info.max_input_tokens, info.max_tokens) == (1_000_000, 128_000)
    assert client.models.retrieve("claude-haiku-4-5").max_tokens == 64_000
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-nonexistent")


def test_json_scripts_speak_thinking_and_server_tools() -> None:
    items = parse_script([{"content": [{"type": "thinking", "thinking": "hm"}, {"type": "redacted_thinking"},
                                       {"type": "server_tool_use", "name": "web_fetch", "input": {"url": "u"}},
                                       {"type": "web_fetch_tool_result", "content": {}}],
                           "stop_reason": "pause_turn", "thinking": None}])
    reply = items[0]
    assert isinstance(reply, Reply)
    assert [type(b).__name__ for b in reply.content] == ["Thinking", "RedactedThinking", "ServerToolUse",
                                                         "ServerResult"]
    assert reply.thinking is None
