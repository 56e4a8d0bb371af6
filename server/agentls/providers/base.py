"""Provider-agnostic types: the conversation, one model turn, its streamed events, its failures.

The agent loop codes against these names only. A provider (``anthropic.py``) converts them to
its wire format; nothing here imports an SDK, so importing this module costs nothing at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass
from typing import Any, Literal, Protocol, TypeAlias

from agentls.choices import Effort, ThinkingDisplay, ThinkingMode
from agentls.errors import ProviderError

# -- conversation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextBlock:
    text: str
    #: Citations the model attached (web search results), kept to be sent back as received.
    citations: tuple[Mapping[str, Any], ...] | None = None


@dataclass(frozen=True)
class ThinkingBlock:
    """The model's thinking: ``thinking`` is empty unless its display is "summarized"; ``signature``
    binds the block to the model and the transcript. Sent back exactly as received."""

    thinking: str
    signature: str


@dataclass(frozen=True)
class RedactedThinkingBlock:
    data: str


@dataclass(frozen=True)
class ToolUseBlock:
    id: str
    name: str
    #: A JSON object of the tool's parameters; anything else the model sent is kept as sent (the transcript
    #: replays it exactly) and answered with an error result.
    input: dict[str, Any]


@dataclass(frozen=True)
class OpaqueBlock:
    """A block of the model's turn that agentls does not model (server tool calls and their results,
    blocks of kinds added after this was written): kept as received and sent back verbatim."""

    type: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ToolResultBlock:
    tool_use_id: str
    content: str
    is_error: bool = False
    #: Images after the text, (media type, base64 data).
    images: tuple[tuple[str, str], ...] = ()


#: What an assistant turn holds, in the order the model produced it.
AssistantBlock: TypeAlias = TextBlock | ThinkingBlock | RedactedThinkingBlock | ToolUseBlock | OpaqueBlock
Block: TypeAlias = AssistantBlock | ToolResultBlock
THINKING_BLOCKS = (ThinkingBlock, RedactedThinkingBlock)


@dataclass
class Message:
    role: Literal["user", "assistant"]
    content: list[Block]


def text_of(blocks: Sequence[Block]) -> str:
    """The text blocks' text, joined (thinking, tool calls and results left out)."""
    return "".join(block.text for block in blocks if isinstance(block, TextBlock))


@dataclass(frozen=True)
class Usage:
    """Token counts of one turn (or, summed with ``+``, of a session), and the server tools it used."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    #: Output tokens spent thinking (included in ``output_tokens``).
    thinking_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def total_input(self) -> int:
        """Every input token of the prompt: uncached, written to the cache and read from it."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @property
    def total(self) -> int:
        return self.total_input + self.output_tokens


# -- one turn -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRequest:
    """One model call.

    ``tools`` are definitions in the provider's format, passed through as given (never mutated).
    They and ``system`` should be identical across the turns of a session: they form the start of
    the prompt prefix that is cached, and thinking blocks are bound to it. ``cache=False`` asks for
    no cache breakpoints at all. ``thinking``, ``thinking_display`` and ``effort`` are the settings
    of the same names (``model.*``); the provider sends what the model accepts and refuses, before
    sending, what it cannot. ``container`` is the code execution container to continue in.
    """

    model: str
    system: str
    messages: Sequence[Message]
    tools: Sequence[Mapping[str, Any]]
    max_tokens: int
    thinking: ThinkingMode = "adaptive"
    thinking_display: ThinkingDisplay = "summarized"
    effort: Effort | None = None
    container: str | None = None
    cache: bool = True


@dataclass(frozen=True)
class StopDetails:
    """Why the model declined (``stop_reason`` "refusal"): a policy category and an explanation."""

    category: str | None
    explanation: str | None

    def describe(self) -> str:
        what = "the model declined this request"
        if self.category:
            what += f" ({self.category.replace('_', ' ')})"
        return f"{what}: {self.explanation}" if self.explanation else what


@dataclass(frozen=True)
class TurnResult:
    """A complete assistant turn. Never partial: a turn that broke off was retried or failed."""

    content: list[AssistantBlock]
    stop_reason: str
    usage: Usage
    model: str
    #: How many attempts the turn took (1 = no retry).
    attempts: int
    stop_details: StopDetails | None = None
    #: The code execution container the turn used (pass it back to keep its files).
    container: str | None = None

    @property
    def tool_calls(self) -> list[ToolUseBlock]:
        return [block for block in self.content if isinstance(block, ToolUseBlock)]

    @property
    def text(self) -> str:
        return text_of(self.content)

    @property
    def only_thinking(self) -> bool:
        """Nothing but thinking (and empty text, which is never sent back): a turn whose output limit ran
        out while the model thought, or one that ended without a word."""
        return all(isinstance(b, THINKING_BLOCKS) or (isinstance(b, TextBlock) and not b.text) for b in self.content)


@dataclass(frozen=True)
class ModelLimits:
    """What the provider knows of a model: its context window and the most output a turn may ask for."""

    context_window: int
    max_output: int


# -- events streamed while a turn runs ------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    """A piece of the model's thinking summary (display "summarized"), or of a progress update."""

    text: str


@dataclass(frozen=True)
class ToolUseStarted:
    id: str
    name: str
    #: A tool the API runs itself (web search, web fetch, code execution).
    server: bool = False


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
    #: The failure's kind (``FailureKind``: "overloaded", "rate_limit", ...), for a short status line.
    kind: str = ""


@dataclass(frozen=True)
class CircuitChanged:
    """The provider's circuit breaker opened (turns now fail fast, with no request, for ``reset_s``) or
    closed again. Sent to the turn that changed it; the dashboard's health view reads the latest one."""

    state: Literal["open", "closed"]
    #: Consecutive turns that failed for a service reason.
    failures: int = 0
    #: The last failure's kind (``FailureKind``), when it opened.
    kind: str = ""
    reset_s: float = 0.0


StreamEvent: TypeAlias = TextDelta | ThinkingDelta | ToolUseStarted | Retrying | CircuitChanged
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

    async def limits(self, model: str) -> ModelLimits:
        """The model's context window and output limit (the model table, else the provider's API)."""
        ...

    async def download(self, file_id: str, max_bytes: int) -> tuple[str, bytes]:
        """A file a server tool produced: its name and content. Raises ``ProviderFailure`` (also when it
        is larger than ``max_bytes``)."""
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
    "settings",
    "context_window",
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
