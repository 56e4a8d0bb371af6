"""The scripting vocabulary: what a test queues, turn by turn, and what the fake records.

`Reply` is an assistant message (built from `Text`, `ToolUse`, `Thinking`, `RedactedThinking`,
`ServerToolUse` and `ServerResult` blocks); `Fault` builds the failures (`ErrorFault`, `DropFault`,
`DelayFault`). A script item may also be a callable that receives the `RecordedRequest` and returns a
`Reply` or `Fault`. `json_script` reads the same vocabulary from JSON.

Thinking, as the current models do it: a reply to a model that thinks (every 5.x model unless the
request turns thinking off) starts with a reasoning `thinking` block unless it scripts its own
`Thinking` blocks or says `thinking=None` (adaptive thinking may skip a simple turn). On models that
write their notes between tool calls as thinking (Sonnet 5.5, Opus 5.5, Fable 5.1+), a `Text` of
`UPDATE_MIN_CHARS` or more right before a `ToolUse` comes back as a progress-update thinking block.
Its text, like a reasoning block's, reaches the client only with `display: "summarized"` (or as an
update with `"updates"` / `between_tools`); the default display `"omitted"` sends it empty, with a
signature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

StopReason: TypeAlias = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
]

# status code -> error.type, as the real API pairs them
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

DEFAULT_ERROR_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Invalid request (scripted by the fake Messages API)",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}


@dataclass(frozen=True)
class Text:
    """A `text` content block."""

    text: str


class RawInput(str):
    """A tool call's input streamed as these exact characters, even when they are not JSON (a broken call)."""


@dataclass(frozen=True)
class ToolUse:
    """A `tool_use` content block; `id` is generated (`toolu_...`) when not given."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Thinking:
    """A `thinking` block: `update=True` marks a progress update written before a tool call."""

    text: str
    update: bool = False


@dataclass(frozen=True)
class RedactedThinking:
    """A `redacted_thinking` block (its `data` is a signed opaque value)."""


@dataclass(frozen=True)
class ServerToolUse:
    """A `server_tool_use` block (web_search, web_fetch, code_execution, bash_code_execution, ...)."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class ServerResult:
    """A server tool's result block, e.g. `ServerResult("web_search_tool_result", [...])`: `tool_use_id`
    defaults to the id of the nearest `ServerToolUse` before it."""

    type: str
    content: Any
    tool_use_id: str | None = None


Block: TypeAlias = Text | ToolUse | Thinking | RedactedThinking | ServerToolUse | ServerResult

#: A reasoning block the fake writes for a reply that scripts none.
AUTO_THINKING = "Let me work out what the request needs before I answer."
#: Text at least this long right before a tool call is a progress update on current models.
UPDATE_MIN_CHARS = 80


@dataclass(frozen=True)
class Usage:
    """Token counts for a reply. `None` means "estimate it" (see `wire.estimate_input_tokens`)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    #: `server_tool_use` counts; None: counted from the reply's server tool blocks
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None


@dataclass(frozen=True)
class Reply:
    """One assistant message, served as JSON or as an SSE stream depending on the request.

    `stop_reason=None` means "tool_use" if the content has a `ToolUse`, else "end_turn".
    `model=None` echoes the request's model. `chunk_size` is the largest delta (in characters)
    a streamed block is split into; every non-empty block is split into at least two deltas.
    `event_delay` sleeps between SSE events (to test cancellation mid-stream).
    `thinking`: the reasoning block's text when the content scripts no `Thinking` (see the module
    docstring); None for no thinking block. `stop_details` defaults to `{"type": "refusal",
    "category": null, "explanation": null}` for a refusal. `container` (an id) is reported when set,
    and by default when the reply uses code execution.
    """

    content: Sequence[Block] = ()
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage = Usage()
    model: str | None = None
    id: str | None = None
    chunk_size: int = 16
    event_delay: float = 0.0
    thinking: str | None = AUTO_THINKING
    stop_details: Mapping[str, Any] | None = None
    container: str | None = None

    @staticmethod
    def text(
        text: str,
        *,
        stop_reason: StopReason | None = None,
        usage: Usage = Usage(),
        model: str | None = None,
        id: str | None = None,
        chunk_size: int = 16,
        event_delay: float = 0.0,
        thinking: str | None = AUTO_THINKING,
    ) -> Reply:
        """`Reply.text("hi")`: a message with one text block."""
        return Reply([Text(text)], stop_reason, None, usage, model, id, chunk_size, event_delay, thinking)

    @staticmethod
    def tool_use(
        name: str,
        input: Mapping[str, Any],
        *,
        id: str | None = None,
        text: str | None = None,
        usage: Usage = Usage(),
        chunk_size: int = 16,
    ) -> Reply:
        """A message calling one tool, after an optional text block; stop_reason "tool_use"."""
        blocks: list[Block] = [Text(text)] if text is not None else []
        blocks.append(ToolUse(name, input, id))
        return Reply(blocks, usage=usage, chunk_size=chunk_size)

    def resolved_stop_reason(self) -> StopReason:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.content) else "end_turn"


class Fault:
    """Base of the scripted failures; build them with the factories below."""

    @staticmethod
    def error(
        status: int,
        message: str | None = None,
        *,
        error_type: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
        after_events: int | None = None,
        reply: Reply | None = None,
    ) -> ErrorFault:
        """An error response: `{"type": "error", "error": {"type", "message"}, "request_id"}`.

        `error_type` defaults from the status (429 -> rate_limit_error, 529 -> overloaded_error, ...).
        A 429 carries `retry-after: 0` unless `retry_after` says otherwise. `should_retry` sets the
        `x-should-retry` header, which the SDK obeys. With `after_events=N` a *streaming* request gets a
        200 stream of `reply` cut after N events by an `event: error` frame (the API's mid-stream error).
        """
        etype = error_type or ERROR_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        if retry_after is None and status == 429:
            retry_after = 0
        return ErrorFault(
            status=status,
            error_type=etype,
            message=message if message is not None else DEFAULT_ERROR_MESSAGES.get(etype, etype),
            retry_after=retry_after,
            should_retry=should_retry,
            headers=dict(headers or {}),
            after_events=after_events,
            reply=reply,
        )

    @staticmethod
    def drop(after_events: int | None = 3, *, reply: Reply | None = None, reset: bool = False) -> DropFault:
        """Cut the connection abruptly.

        Streaming request: send `after_events` SSE events of `reply`, then close without ending the
        chunked body. Non-streaming request: send the headers and half of the JSON body, then close.
        `after_events=None`: close without sending any response at all. `reset=True` sends a TCP RST
        instead of a FIN.
        """
        return DropFault(after_events=after_events, reply=reply, reset=reset)

    @staticmethod
    def delay(seconds: float, then: Reply | Fault | None = None) -> DelayFault:
        """Wait `seconds` before serving `then` (default: a text reply "late")."""
        return DelayFault(seconds=seconds, then=then if then is not None else Reply.text("late"))


@dataclass(frozen=True)
class ErrorFault(Fault):
    status: int
    error_type: str
    message: str
    retry_after: float | None = None
    should_retry: bool | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    after_events: int | None = None
    reply: Reply | None = None


@dataclass(frozen=True)
class DropFault(Fault):
    after_events: int | None = 3
    reply: Reply | None = None
    reset: bool = False


@dataclass(frozen=True)
class DelayFault(Fault):
    seconds: float
    then: Reply | Fault


@dataclass
class RecordedRequest:
    """One request as the fake received it. `body` is the parsed JSON (None if absent or invalid)."""

    index: int
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    raw_body: str
    served: str = ""  # what the fake answered, e.g. "Reply", "ErrorFault(429)", "script exhausted"
    #: thinking blocks the API dropped (sent back when the request has the binding beta header)
    input_transformations: list[dict[str, str]] | None = None
    #: the `Message` JSON served for this request (a reply, or what a fault streamed before failing)
    response: dict[str, Any] | None = None

    @property
    def api_key(self) -> str | None:
        """The credential sent, from `x-api-key` or `Authorization: Bearer` (the SDK 2.x sends the latter)."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" else None

    @property
    def is_stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "served": self.served,
        }


Outcome: TypeAlias = Reply | Fault
Responder: TypeAlias = Callable[[RecordedRequest], Outcome]
ScriptItem: TypeAlias = Outcome | Responder
