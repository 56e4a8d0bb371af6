"""A fake Anthropic Messages API for tests: scripted, recorded, on 127.0.0.1.

The real `anthropic` SDK is pointed at it (`base_url=fake.base_url`, or `fake.env()` for a
subprocess: `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY`). It serves, from background threads:

- `POST /v1/messages`: the next scripted item, as a JSON `Message`, or as an SSE stream when the
  body says `"stream": true` (message_start, content_block_start/delta/stop per block with
  `text_delta` / `input_json_delta` pieces, `ping`s, message_delta, message_stop).
- `POST /v1/messages/count_tokens`: `{"input_tokens": N}`, N = ceil(len(compact key-sorted JSON of
  the request's system + messages + tools) / 4), at least 1. It does not consume the script; a
  reply's default `usage.input_tokens` is the same estimate.
- anything else: 404 `not_found_error`.

In a pytest conftest.py: `from tests.fakes.messages_api.fixture import fake_messages_api  # noqa: F401`
gives tests a running, empty `fake_messages_api` that is stopped (threads joined, port closed) after.

- `GET /v1/models/{id}`: the `ModelInfo` of a model in the fake's table (`models.py`), else 404.
- `GET /v1/files/{id}` and `/content`: files added with `fake.add_file(...)` (code execution output).

It behaves like the API of today (docs/messages-api.md) for the model a request names: the 5.x models
think by default and sign their thinking blocks, which must come back verbatim (the latest assistant
turn, the prefix check, `drop_block`); pre-5.x ids (`claude-sonnet-4-6`, `claude-opus-4-5`, ...)
keep the old behaviour. An unknown model is a 404; `FakeMessagesAPI(models=[custom("claude-x", ...)])`
adds one.

Every request is recorded (`fake.requests`: method, path, lower-cased headers, parsed JSON body,
what was served, the `response` message), whatever its auth headers. Requests the real API would
reject with a 400 get an `invalid_request_error` without consuming the script
(`FakeMessagesAPI(validate=False)` turns that off): missing model / max_tokens / messages, bad roles,
empty content, `tool_use` without a `tool_result` right after or the reverse, more than 4
`cache_control` breakpoints (`validate.py`); sampling parameters, forced tool choice, prefill,
thinking types and effort levels the model lacks, `max_tokens` over its limit, a prompt over its
context window (`rules.py`); modified, moved, dropped or forged thinking blocks (`binding.py`).

Scripting vocabulary (Python)::

    from tests.fakes.messages_api import Fault, FakeMessagesAPI, Reply, Text, ToolUse, Usage

    with FakeMessagesAPI() as fake:
        fake.add(Reply.text("hi"))
        fake.add(Reply(content=[Text("Let me look"),
                                ToolUse("str_replace_based_edit_tool", {"command": "view", "path": "a.py"})],
                       stop_reason="tool_use", usage=Usage(input_tokens=50, cache_read_input_tokens=900)))
        fake.add(Fault.error(429, retry_after=0))      # rate_limit_error, header retry-after: 0
        fake.add(Fault.error(529))                      # overloaded_error
        fake.add(Fault.error(529, after_events=4))      # streaming: 4 events, then `event: error`
        fake.add(Fault.drop(after_events=5))            # streaming: 5 events, then the socket closes
        fake.add(Fault.delay(2.0, then=Reply.text("late")))
        fake.add(lambda request: Reply.text(f"you sent {len(request.body['messages'])} messages"))
        fake.respond_with(lambda request: Reply.text("fallback"))  # when the queue is empty
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="test-key")
        ...
        assert fake.requests[0].body["system"] == "..."

What the SDK (anthropic 2.12) does with the faults: error statuses raise the matching
`APIStatusError` subclass after its retries (429/5xx/529 are retried, twice by default; note that
`retry-after: 0` makes it fall back to its own ~0.4-0.5 s backoff, so use e.g. `retry_after=0.01`
for speed); a mid-stream `event: error` raises a plain `APIStatusError` with `status_code` 200; a
drop before the headers (or mid-body, non-streaming) raises `APIConnectionError` (retried); a drop
*after* a stream started raises the raw `httpx2.RemoteProtocolError` (`httpx2.ReadError` with
`reset=True`), not an anthropic error, and is never retried; a delay past the client's timeout
raises `APITimeoutError` (retried).

Each item answers one `POST /v1/messages`, in order. `Reply(stop_reason=None)` (the default) means
"tool_use" when the content has a `ToolUse`, else "end_turn"; ids are generated (`msg_...`,
`toolu_...`) unless given; the model echoes the request's. `Usage` fields left None are estimated.
When the queue is empty and no responder is set, the fake answers 500 `api_error` whose message
says the script is exhausted (with `x-should-retry: false`, so the SDK does not retry it) and
lists the request in `fake.exhausted`. Errors of the fake's own (a callable that raised) are in
`fake.errors`.

Standalone mode, for non-Python drivers::

    python -m tests.fakes.messages_api --script replies.json [--port 0] [--log requests.jsonl]

prints one line `PORT=<n>` once listening, writes each request to the `--log` file (truncated at
start) as a JSON line (`index, method, path, query, headers, body, served`) as it arrives, and runs
until SIGTERM / SIGINT (exit status 0; 2 if the script does not parse).
`--no-validate` turns the 400 checks off. The script is a JSON list of items::

    [
      {"text": "hi"},
      {"content": [{"type": "text", "text": "Let me look"},
                   {"type": "tool_use", "name": "str_replace_based_edit_tool",
                    "input": {"command": "view", "path": "a.py"}, "id": "toolu_optional"}],
       "stop_reason": "tool_use",
       "usage": {"input_tokens": 50, "output_tokens": 20,
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 900}},
      {"fault": "error", "status": 429, "retry_after": 0, "message": "slow down"},
      {"fault": "error", "status": 529, "after_events": 4},
      {"fault": "drop", "after_events": 5, "reply": {"text": "a reply that gets cut"}},
      {"fault": "delay", "seconds": 2.0, "then": {"text": "late"}}
    ]

A reply has exactly one of `text` / `content`, and optionally `stop_reason`, `stop_sequence`,
`usage`, `model`, `id`, `chunk_size`, `event_delay`, `thinking` (the reasoning text, null for none),
`stop_details`, `container`. Blocks: `text`, `tool_use`, `thinking` (`thinking`, `update`),
`redacted_thinking`, `server_tool_use`, and any `*_tool_result` (`content`, `tool_use_id`).
Faults take the keyword arguments of
`Fault.error` (`status`, `message`, `error_type`, `retry_after`, `should_retry`, `headers`,
`after_events`, `reply`), `Fault.drop` (`after_events`, null = hang up before any response;
`reply`; `reset`) and `Fault.delay` (`seconds`, `then`: any item). Unknown keys are errors.
"""

from .json_script import ScriptError, load_script, parse_script
from .models import PROFILES, Profile, custom
from .script import (
    AUTO_THINKING,
    Block,
    DelayFault,
    DropFault,
    ErrorFault,
    Fault,
    Outcome,
    RawInput,
    RecordedRequest,
    RedactedThinking,
    Reply,
    Responder,
    ScriptItem,
    ServerResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolUse,
    Usage,
)
from .server import FakeMessagesAPI

__all__ = [
    "AUTO_THINKING",
    "PROFILES",
    "Block",
    "DelayFault",
    "DropFault",
    "ErrorFault",
    "FakeMessagesAPI",
    "Fault",
    "Outcome",
    "Profile",
    "RawInput",
    "RecordedRequest",
    "RedactedThinking",
    "Reply",
    "Responder",
    "ScriptError",
    "ScriptItem",
    "ServerResult",
    "ServerToolUse",
    "Text",
    "Thinking",
    "ToolUse",
    "Usage",
    "custom",
    "load_script",
    "parse_script",
]
