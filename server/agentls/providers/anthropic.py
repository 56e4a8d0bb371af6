"""The Anthropic Messages API provider: the only module that imports ``anthropic`` (and ``httpx2``).

Import it lazily (``from agentls.providers.anthropic import AnthropicProvider`` inside the function
that needs it): importing the SDK takes over a second, which the language server must not pay at
start-up.

The SDK's own retries are off (``max_retries=0``); ``resilience.Resilience`` retries instead, so
that a stream that breaks after its headers (which the SDK never retries) is retried as a whole
turn like any other transient failure, and ``retry-after`` is honoured by one policy.

The request body is built in ``wire`` (the rules of the current models, prompt caching); the reply's
raw stream events are assembled in ``turn_stream``, which keeps every block, in order, for the
transcript: text (with citations), thinking with its signature, redacted thinking, tool calls, and as
``OpaqueBlock`` whatever else the API sends (server tool calls and results), and parses each tool
input once (the SDK's ``messages.stream`` re-parses it on every delta). Thinking summaries stream as
``ThinkingDelta`` events.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC
from typing import Any

import anthropic
import httpx2

from agentls.config import ModelSettings
from agentls.providers.base import (
    EventCallback,
    FailureKind,
    ModelLimits,
    ProviderFailure,
    TurnRequest,
    TurnResult,
    one_line,
)
from agentls.providers.models import EFFORT_LEVELS, THINKING_TYPES, ModelSpec, fallback_spec, spec_for
from agentls.providers.resilience import Clock, Resilience, Sleep
from agentls.providers.turn_stream import TurnStream
from agentls.providers.wire import count_tokens_body, request_body

log = logging.getLogger(__name__)

NAME = "Anthropic API"
DEFAULT_BASE_URL = "https://api.anthropic.com"
MISSING_KEY = "no Anthropic API key: set ANTHROPIC_API_KEY, or model.api_key in your own config (see agentls doctor)"
KEY_ADVICE = "check ANTHROPIC_API_KEY, or model.api_key in your own config (see agentls doctor)"

ClientFactory = Callable[..., anthropic.AsyncAnthropic]


# -- the Models API -> the model table ---------------------------------------------------------


def spec_from_info(model: str, info: Any) -> ModelSpec:
    """A model-table row from the Models API's ``ModelInfo``: its limits and, when it reports them, the
    thinking types and effort levels it accepts (priced like the default model: the API has no prices)."""
    spec = fallback_spec(model, context_window=info.max_input_tokens, max_output=info.max_tokens)
    capabilities = info.capabilities
    if capabilities is None:
        return spec
    types = capabilities.thinking.types
    thinking = tuple(t for t in THINKING_TYPES if getattr(types, t).supported)
    effort = tuple(level for level in EFFORT_LEVELS
                   if capabilities.effort.supported and getattr(capabilities.effort, level, None) is not None
                   and getattr(capabilities.effort, level).supported)
    return replace(spec, thinking_types=thinking or spec.thinking_types, effort=effort, known=True)


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
    if status == 400 and detail.startswith("prompt is too long"):
        kind, summary = "context_window", f"{NAME}: the conversation is longer than the model's context window"
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


def transport_failure(exc: anthropic.APIError | httpx2.RequestError, base_url: str, *,
                      started: bool = False) -> ProviderFailure:
    """No response, or a response that broke off once ``started`` (its headers had arrived).

    SDK 2.17 wraps a body that breaks off in ``APIConnectionError`` like a failed connect; older ones
    let the raw httpx2 error through. Only ``started`` tells the two apart in both.
    """
    cause = exc.__cause__ if isinstance(exc, anthropic.APIConnectionError) and exc.__cause__ else exc
    what = one_line(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__, 160)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ProviderFailure(f"{NAME} timed out ({what})", kind="timeout", summary=f"{NAME} timed out")
    if isinstance(exc, anthropic.APIConnectionError) and not started:
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
        self._specs: dict[str, ModelSpec] = {}

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

    async def limits(self, model: str) -> ModelLimits:
        spec = await self._spec(model)
        return ModelLimits(spec.context_window, spec.max_output)

    async def _spec(self, model: str) -> ModelSpec:
        """The model table's row, else what the Models API says of the id (asked once; a failed lookup is
        asked again next time), else limits every current model meets."""
        if (known := spec_for(model)) is not None:
            return known
        if model in self._specs:
            return self._specs[model]
        try:
            info = await self._client_or_fail().models.retrieve(model)
        except anthropic.NotFoundError as exc:
            raise ProviderFailure(f"{NAME} does not know the model '{model}'; check model.name",
                                  kind="settings", retryable=False, status=404) from exc
        except (anthropic.APIError, httpx2.RequestError) as exc:
            guess = fallback_spec(model)
            log.warning("model %s is not in agentls's table and the Models API did not answer (%s); assuming a "
                        "%d-token context window and %d output tokens", model, exc, guess.context_window,
                        guess.max_output)
            return guess
        spec = self._specs[model] = spec_from_info(model, info)
        log.info("model %s (Models API): %d-token context window, %d output tokens, thinking %s, effort %s", model,
                 spec.context_window, spec.max_output, "/".join(spec.thinking_types), "/".join(spec.effort) or "-")
        return spec

    async def stream_turn(self, request: TurnRequest, on_event: EventCallback | None = None) -> TurnResult:
        """One turn, streamed; a turn that breaks off is retried whole (partial content is dropped)."""
        client = self._client_or_fail()
        body = request_body(request, await self._spec(request.model))

        async def attempt(number: int) -> TurnResult:
            return await self._stream_once(client, body, on_event, number)

        return await self.resilience.run(attempt, on_event)

    async def _stream_once(self, client: anthropic.AsyncAnthropic, body: dict[str, Any],
                           on_event: EventCallback | None, number: int) -> TurnResult:
        deadline = self.settings.turn_deadline_s
        turn = TurnStream(on_event)
        started = False
        try:
            # Raw events, not ``messages.stream``: its accumulator re-parses a tool input on every delta
            # (``turn_stream``). Leaving the block closes the response, also when cancelled mid-stream.
            async with asyncio.timeout(deadline):
                stream = await client.messages.create(**body, stream=True)
                started = True
                async with stream:
                    async for event in stream:
                        turn.feed(event)
            if turn.stop_reason is None:
                # The body ended without message_delta/message_stop: the content may be cut anywhere.
                raise ProviderFailure(f"{NAME} stream ended before the turn was complete", kind="broken_stream",
                                      summary=f"{NAME} stream broke off")
            result = turn.result(number)
        except TimeoutError as exc:
            raise ProviderFailure(f"{NAME} turn took longer than {deadline:g} s (model.turn_deadline_s)",
                                  kind="timeout", summary=f"{NAME} timed out") from exc
        except anthropic.APIStatusError as exc:
            raise status_failure(exc) from exc
        except (anthropic.APIError, httpx2.RequestError) as exc:
            raise transport_failure(exc, self.base_url, started=started) from exc
        except ValueError as exc:  # a streamed tool input that cannot be read: retried like a broken stream
            raise ProviderFailure(f"{NAME} sent a tool call whose input could not be read ({exc})",
                                  kind="broken_stream", summary=f"{NAME} sent an unreadable tool call") from exc
        log.debug("turn done: %s, %s, attempt %d", result.stop_reason, result.usage, number)
        return result

    async def count_tokens(self, request: TurnRequest) -> int:
        """Input tokens of ``request`` (retried like a turn, but outside the circuit breaker)."""
        client = self._client_or_fail()
        body = count_tokens_body(request, await self._spec(request.model))

        async def attempt(number: int) -> int:
            try:
                counted = await client.messages.count_tokens(**body)
            except anthropic.APIStatusError as exc:
                raise status_failure(exc) from exc
            except (anthropic.APIError, httpx2.RequestError) as exc:
                raise transport_failure(exc, self.base_url) from exc
            return counted.input_tokens

        return await self.resilience.run(attempt, use_breaker=False)

    async def download(self, file_id: str, max_bytes: int) -> tuple[str, bytes]:
        client = self._client_or_fail()
        try:
            meta = await client.files.retrieve_metadata(file_id)
            if meta.size_bytes > max_bytes:
                raise ProviderFailure(f"{meta.filename} is {meta.size_bytes:,} bytes, over tools.max_file_bytes "
                                      f"({max_bytes:,})", kind="settings", retryable=False)
            content = await client.files.download(file_id)
            return meta.filename, await content.read()
        except anthropic.APIStatusError as exc:
            raise status_failure(exc) from exc
        except (anthropic.APIError, httpx2.RequestError) as exc:
            raise transport_failure(exc, self.base_url) from exc

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

