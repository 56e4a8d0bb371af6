"""Provider-agnostic types: the conversation, one model turn, its streamed events, its failures.

The agent loop codes against these names only. A provider (``anthropic.py``) converts them to
its wire format; nothing here imports an SDK, so importing this module costs nothing at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

from agentls.errors import ProviderError

# -- conversation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextBlock:
    text: str


@dataclass(frozen=True)
class ToolUseBlock:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ToolResultBlock:
    tool_use_id: str
    content: str
    is_error: bool = False


Block: TypeAlias = TextBlock | ToolUseBlock | ToolResultBlock


@dataclass
class Message:
    role: Literal["user", "assistant"]
    content: list[Block]


@dataclass(frozen=True)
class Usage:
    """Token counts of one turn (or, summed with ``+``, of a session)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @property
    def total_input(self) -> int:
        """Every input token of the prompt: uncached, written to the cache and read from it."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


# -- one turn -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRequest:
    """One model call.

    ``tools`` are definitions in the provider's format, passed through as given (never mutated).
    They and ``system`` should be identical across the turns of a session: they form the start of
    the prompt prefix that is cached. ``cache=False`` asks for no cache breakpoints at all.
    """

    model: str
    system: str
    messages: Sequence[Message]
    tools: Sequence[Mapping[str, Any]]
    max_tokens: int
    temperature: float | None = None
    cache: bool = True


@dataclass(frozen=True)
class TurnResult:
    """A complete assistant turn. Never partial: a turn that broke off was retried or failed."""

    content: list[TextBlock | ToolUseBlock]
    stop_reason: str
    usage: Usage
    model: str
    #: How many attempts the turn took (1 = no retry).
    attempts: int

    @property
    def tool_calls(self) -> list[ToolUseBlock]:
        return [block for block in self.content if isinstance(block, ToolUseBlock)]

    @property
    def text(self) -> str:
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))


# -- events streamed while a turn runs ------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolUseStarted:
    id: str
    name: str


@dataclass(frozen=True)
class Retrying:
    """The current attempt failed and the turn will be retried after ``delay_s``.

    Everything streamed since the turn began (``TextDelta``, ``ToolUseStarted``) is void: the
    retried turn streams again from the start, and only its content is returned.
    """

    #: The number of the attempt about to start (2 = the first retry).
    attempt: int
    delay_s: float
    #: One line: why the previous attempt failed.
    reason: str


StreamEvent: TypeAlias = TextDelta | ToolUseStarted | Retrying
EventCallback: TypeAlias = Callable[[StreamEvent], None]


class Provider(Protocol):
    async def stream_turn(self, request: TurnRequest, on_event: EventCallback | None = None) -> TurnResult:
        """Run one turn, streaming events; retried as a whole on transient failures.

        Raises ``ProviderFailure`` (after retries) and lets ``asyncio.CancelledError`` through.
        """
        ...

    async def count_tokens(self, request: TurnRequest) -> int:
        """Input tokens ``request`` would cost (system + tools + messages)."""
        ...

    async def aclose(self) -> None: ...


# -- failures -------------------------------------------------------------------------------------

FailureKind: TypeAlias = Literal[
    "rate_limit",
    "overloaded",
    "server",
    "connection",
    "timeout",
    "auth",
    "bad_request",
    "broken_stream",
    "circuit_open",
    "missing_key",
]

#: Kinds that say the service (or the way to it) is unwell, as opposed to our request or our
#: credentials: retried by default, and counted by the circuit breaker.
SERVICE_KINDS: frozenset[FailureKind] = frozenset(
    {"rate_limit", "overloaded", "server", "connection", "timeout", "broken_stream"}
)

_SPACE = re.compile(r"\s+")
MAX_MESSAGE_CHARS = 300


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace (an API message may span lines) and cap the length."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class ProviderFailure(ProviderError):
    """A model call failed. ``str(exc)`` is one line a user can act on.

    ``summary`` is a short label for the failure (``"Anthropic API overloaded"``) used when several
    attempts are summed up; the message adds the detail. ``retryable`` defaults from ``kind``
    (``SERVICE_KINDS``); ``retry_after`` is the server's requested wait in seconds, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: FailureKind,
        retryable: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        summary: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.message = one_line(message)
        super().__init__(self.message)
        self.kind: FailureKind = kind
        self.retryable = kind in SERVICE_KINDS if retryable is None else retryable
        self.retry_after = retry_after
        self.status = status
        self.summary = one_line(summary) if summary is not None else self.message
        #: How many attempts were made before this failure was raised.
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"ProviderFailure({self.message!r}, kind={self.kind!r}, retryable={self.retryable}, "
            f"retry_after={self.retry_after}, status={self.status}, attempts={self.attempts})"
        )
