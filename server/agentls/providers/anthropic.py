"""The Anthropic Messages API provider: the only module that imports ``anthropic`` (and ``httpx2``).

Import it lazily (``from agentls.providers.anthropic import AnthropicProvider`` inside the function
that needs it): importing the SDK takes over a second, which the language server must not pay at
start-up.

The SDK's own retries are off (``max_retries=0``); ``resilience.Resilience`` retries instead, so
that a stream that breaks after its headers (which the SDK never retries) is retried as a whole
turn like any other transient failure, and ``retry-after`` is honoured by one policy.

Prompt caching: ``request_body`` renders tools and system identically on every turn and puts
``cache_control`` breakpoints on the last tool, on the system block, on the last block of the newest
message and on the last block of the message three back (the previous turn's newest message in a
user/assistant/user loop). Each request is then the previous request plus the new turn, its prefix
is read from the cache, and only the new turn is written; the explicit breakpoint where the
previous request ended makes that read independent of the API's 20-block look-back (a turn with many
parallel tool calls adds more than 20 blocks). That is 4 breakpoints at most, the API's limit.
"""

from __future__ import annotations

import copy
import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

import anthropic
import httpx2
from anthropic.types import Message as WireMessage

from agentls.config import ModelSettings
from agentls.providers.base import (
    Block,
    EventCallback,
    FailureKind,
    ProviderFailure,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    ToolUseStarted,
    TurnRequest,
    TurnResult,
    Usage,
    one_line,
)
from agentls.providers.resilience import Clock, Resilience, Sleep

log = logging.getLogger(__name__)

NAME = "Anthropic API"
DEFAULT_BASE_URL = "https://api.anthropic.com"
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
MISSING_KEY = "no Anthropic API key: set ANTHROPIC_API_KEY or model.api_key in agentls.toml"
KEY_ADVICE = "check ANTHROPIC_API_KEY or model.api_key in agentls.toml"

ClientFactory = Callable[..., anthropic.AsyncAnthropic]


# -- our types -> the wire format -----------------------------------------------------------------


def _wire_block(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    result: dict[str, Any] = {
        "type": "tool_result", "tool_use_id": block.tool_use_id, "content": block.content
    }
    if block.is_error:
        result["is_error"] = True
    return result


def wire_messages(request: TurnRequest, *, cache: bool) -> list[dict[str, Any]]:
    """Messages as the API takes them; empty text blocks (which it rejects) are left out."""
    messages: list[dict[str, Any]] = [
        {
            "role": message.role,
            "content": [
                _wire_block(b) for b in message.content if not (isinstance(b, TextBlock) and not b.text)
            ],
        }
        for message in request.messages
    ]
    if cache:
        # the newest message, and where the previous request ended (see the module docstring)
        for index in {len(messages) - 1, len(messages) - 3}:
            blocks: list[dict[str, Any]] = messages[index]["content"] if index >= 0 else []
            if blocks:
                blocks[-1] = {**blocks[-1], "cache_control": dict(EPHEMERAL)}
    return messages


def wire_tools(request: TurnRequest, *, cache: bool) -> list[dict[str, Any]]:
    """Tool definitions as given (deep copies: the caller's dicts are never touched)."""
    tools = [copy.deepcopy(dict(tool)) for tool in request.tools]
    if cache and tools:
        tools[-1]["cache_control"] = dict(EPHEMERAL)
    return tools


def wire_system(request: TurnRequest, *, cache: bool) -> list[dict[str, Any]]:
    """The system prompt as a list of one text block (the form that takes ``cache_control``)."""
    if not request.system:
        return []
    block: dict[str, Any] = {"type": "text", "text": request.system}
    if cache:
        block["cache_control"] = dict(EPHEMERAL)
    return [block]


def request_body(request: TurnRequest) -> dict[str, Any]:
    """The keyword arguments of ``messages.stream`` for ``request``: model, max_tokens, system,
    tools, messages (then temperature, if set), each key always in this order."""
    body: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens}
    if system := wire_system(request, cache=request.cache):
        body["system"] = system
    if tools := wire_tools(request, cache=request.cache):
        body["tools"] = tools
    body["messages"] = wire_messages(request, cache=request.cache)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def count_tokens_body(request: TurnRequest) -> dict[str, Any]:
    """The keyword arguments of ``messages.count_tokens`` (no breakpoints: they count nothing)."""
    body: dict[str, Any] = {"model": request.model}
    if system := wire_system(request, cache=False):
        body["system"] = system
    if tools := wire_tools(request, cache=False):
        body["tools"] = tools
    body["messages"] = wire_messages(request, cache=False)
    return body


# -- the wire format -> our types -----------------------------------------------------------------


def _turn_result(message: WireMessage, attempts: int) -> TurnResult:
    content: list[TextBlock | ToolUseBlock] = []
    for block in message.content:
        if block.type == "text":
            content.append(TextBlock(block.text))
        elif block.type == "tool_use":
            content.append(ToolUseBlock(block.id, block.name, dict(block.input)))
        else:  # thinking, server tools: we ask for none of them
            log.debug("ignoring a %s content block", block.type)
    usage = message.usage
    assert message.stop_reason is not None  # checked by the caller
    return TurnResult(
        content=content,
        stop_reason=message.stop_reason,
        usage=Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        ),
        model=message.model,
        attempts=attempts,
    )


# -- SDK and transport errors -> ProviderFailure --------------------------------------------------


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, else ``retry-after`` (seconds or an
    HTTP date). None when absent or unreadable."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp() - (time.time() if now is None else now)
    return value if math.isfinite(value) else None


def _should_retry(headers: Mapping[str, str]) -> bool | None:
    """The API's ``x-should-retry`` verdict, which overrides ours when present."""
    value = headers.get("x-should-retry", "").strip().lower()
    return True if value == "true" else False if value == "false" else None


#: (kind, summary, advice) by status; a mid-stream error event is looked up by its error type.
_BY_STATUS: dict[int, tuple[FailureKind, str, str]] = {
    400: ("bad_request", f"{NAME} rejected the request", ""),
    401: ("auth", f"{NAME} rejected the API key", KEY_ADVICE),
    402: ("auth", f"{NAME} billing problem", "check the account's plan and credits"),
    403: ("auth", f"{NAME} denied access", "check the API key's permissions"),
    404: ("bad_request", f"{NAME}: not found", "check model.name and model.base_url"),
    408: ("timeout", f"{NAME} timed out", ""),
    409: ("server", f"{NAME} conflict", ""),
    413: ("bad_request", f"{NAME}: request too large", "start a new session or send less context"),
    429: ("rate_limit", f"{NAME} rate limit", ""),
    529: ("overloaded", f"{NAME} overloaded", ""),
}
_STATUS_BY_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def status_failure(exc: anthropic.APIStatusError) -> ProviderFailure:
    """An error response, or an ``event: error`` inside a 200 stream (``status_code`` 200)."""
    error_type = exc.type or ""
    mid_stream = exc.status_code < 400
    status = _STATUS_BY_TYPE.get(error_type, 500) if mid_stream else exc.status_code
    if status in _BY_STATUS:
        kind, summary, advice = _BY_STATUS[status]
    elif status >= 500:
        kind, summary, advice = "server", f"{NAME} server error", ""
    else:
        kind, summary, advice = "bad_request", f"{NAME} rejected the request", ""
    if mid_stream and kind not in ("rate_limit", "overloaded", "server", "timeout"):
        kind = "broken_stream"  # whatever it says, a stream that errors mid-way is worth one more try
    code = f"{error_type or 'error'} mid-stream" if mid_stream else f"{exc.status_code} {error_type}".strip()
    detail = one_line(exc.api_message or exc.message, 200)
    message = f"{summary} ({code}): {detail}" + (f"; {advice}" if advice else "")
    headers = exc.response.headers
    return ProviderFailure(
        message,
        kind=kind,
        retryable=_should_retry(headers) if not mid_stream else None,
        retry_after=retry_after(headers),
        status=None if mid_stream else exc.status_code,
        summary=summary,
    )


def transport_failure(exc: anthropic.APIError | httpx2.RequestError, base_url: str) -> ProviderFailure:
    """No response, or a response that broke off (raw httpx2 errors come from a started stream)."""
    cause = exc.__cause__ if isinstance(exc, anthropic.APIConnectionError) and exc.__cause__ else exc
    what = one_line(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__, 160)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ProviderFailure(f"{NAME} timed out ({what})", kind="timeout", summary=f"{NAME} timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        summary = f"cannot reach the {NAME} at {base_url}"
        return ProviderFailure(f"{summary} ({what})", kind="connection", summary=summary)
    summary = f"{NAME} stream broke off"
    return ProviderFailure(f"{summary} mid-turn ({what})", kind="broken_stream", summary=summary)


# -- the provider ---------------------------------------------------------------------------------


class AnthropicProvider:
    """``Provider`` over the Messages API, streaming, with retries and a circuit breaker.

    The client is created at the first call, so that a server without an API key starts and says
    what is missing when it is first asked for a turn. ``client_factory`` receives the keyword
    arguments of ``anthropic.AsyncAnthropic`` (tests wrap it); ``sleep``, ``rng`` and ``clock`` go to
    ``Resilience``.
    """

    def __init__(
        self,
        settings: ModelSettings,
        *,
        client_factory: ClientFactory | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self._client_factory: ClientFactory = client_factory or anthropic.AsyncAnthropic
        self._client: anthropic.AsyncAnthropic | None = None
        extra: dict[str, Any] = {}
        if sleep is not None:
            extra["sleep"] = sleep
        if clock is not None:
            extra["clock"] = clock
        self.resilience = Resilience(settings.retry, name=NAME, rng=rng, **extra)

    @property
    def base_url(self) -> str:
        return self.settings.base_url or DEFAULT_BASE_URL

    def _client_or_fail(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            key = self.settings.api_key.get_secret_value().strip() if self.settings.api_key else ""
            if not key:
                raise ProviderFailure(MISSING_KEY, kind="missing_key", retryable=False, attempts=0)
            self._client = self._client_factory(
                api_key=key,
                base_url=self.base_url,  # explicit: the SDK must not consult the environment itself
                timeout=self.settings.timeout_s,
                max_retries=0,
            )
        return self._client

    async def stream_turn(self, request: TurnRequest, on_event: EventCallback | None = None) -> TurnResult:
        """One turn, streamed; a turn that breaks off is retried whole (partial content is dropped)."""
        client = self._client_or_fail()
        body = request_body(request)

        async def attempt(number: int) -> TurnResult:
            return await self._stream_once(client, body, on_event, number)

        return await self.resilience.run(attempt, on_event)

    async def _stream_once(
        self,
        client: anthropic.AsyncAnthropic,
        body: dict[str, Any],
        on_event: EventCallback | None,
        number: int,
    ) -> TurnResult:
        try:
            # Leaving the block closes the response, also when the task is cancelled mid-stream.
            async with client.messages.stream(**body) as stream:
                async for event in stream:
                    if on_event is None:
                        continue
                    if event.type == "text":
                        on_event(TextDelta(event.text))
                    elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                        on_event(ToolUseStarted(event.content_block.id, event.content_block.name))
                message = await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            raise status_failure(exc) from exc
        except (anthropic.APIError, httpx2.RequestError) as exc:
            raise transport_failure(exc, self.base_url) from exc
        if message.stop_reason is None:
            # The body ended without message_delta/message_stop: the content may be cut anywhere.
            raise ProviderFailure(
                f"{NAME} stream ended before the turn was complete",
                kind="broken_stream",
                summary=f"{NAME} stream broke off",
            )
        result = _turn_result(message, number)
        log.debug("turn done: %s, %s, attempt %d", result.stop_reason, result.usage, number)
        return result

    async def count_tokens(self, request: TurnRequest) -> int:
        """Input tokens of ``request`` (retried like a turn, but outside the circuit breaker)."""
        client = self._client_or_fail()
        body = count_tokens_body(request)

        async def attempt(number: int) -> int:
            try:
                counted = await client.messages.count_tokens(**body)
            except anthropic.APIStatusError as exc:
                raise status_failure(exc) from exc
            except (anthropic.APIError, httpx2.RequestError) as exc:
                raise transport_failure(exc, self.base_url) from exc
            return counted.input_tokens

        return await self.resilience.run(attempt, use_breaker=False)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
