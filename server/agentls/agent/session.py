"""One agent session: the loop of model turns and tool calls until the model ends its turn.

The loop knows nothing about editors or terminals: it streams events to a callback, keeps edits in
the overlay the caller gave it (the caller decides whether they reach the disk or become
proposals), records usage, and stops on end_turn, the turn limit, the budget, the session deadline
or cancellation.

The transcript is append-only, as the current models require (their thinking blocks are bound to
everything before them): each assistant turn is kept exactly as the API sent it, a paused turn
(``pause_turn``) is sent back as the last message and the continuation joins it, and the only
rewrite, compaction, starts a new transcript from a summary (``compaction``). A turn that cannot be
kept (a refusal, one cut by the context window, one with nothing but thinking in it) is dropped, never
sent back half or empty: the API rejects an assistant message of only thinking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from agentls.agent import compaction, server_tools
from agentls.agent.cost import cost_usd
from agentls.agent.events import (
    RESULT_CHARS,
    AgentEvent,
    Compacted,
    ToolFinished,
    TurnStarted,
    UsageUpdated,
    describe_call,
    tool_called,
)
from agentls.agent.results import SessionResult, Status
from agentls.agent.server_tools import ProducedFile, produced_files
from agentls.agent.tools.base import ToolContext
from agentls.agent.tools.registry import ToolRegistry
from agentls.config import Settings
from agentls.errors import AgentlsError, BudgetExceeded
from agentls.providers.base import (
    Block,
    Message,
    ModelLimits,
    OpaqueBlock,
    Provider,
    ProviderFailure,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    TurnRequest,
    TurnResult,
    Usage,
    text_of,
)
from agentls.store.db import Store
from agentls.tokens import COUNTER, TokenCounter

log = logging.getLogger(__name__)

CONTINUE = "Your previous reply was cut off by the output token limit. Continue where you stopped."
TRUNCATED_CALL = ("This tool call was cut off by the output token limit and was not run. "
                  "Send it again, splitting large edits into several smaller calls.")
#: The summary turn's output limit (thinking included).
SUMMARY_MAX_TOKENS = 16_000


class AgentSession:
    def __init__(
        self,
        *,
        session_id: str,
        provider: Provider,
        tools: ToolRegistry,
        context: ToolContext,
        settings: Settings,
        system: str,
        store: Store | None = None,
        on_event: Callable[[AgentEvent], None] | None = None,
        counter: TokenCounter | None = None,
    ) -> None:
        self.session_id = session_id
        self.provider = provider
        self.tools = tools
        self.context = context
        self.settings = settings
        self.system = system
        self.store = store
        self._emit = on_event or (lambda event: None)
        self.usage = Usage()
        self.cost = 0.0
        self.turns = 0
        self.messages: list[Message] = []
        self.counter = counter or COUNTER
        self.max_tokens = settings.model.max_tokens
        #: The code execution container the session's turns share (its files persist between them).
        self.container: str | None = None
        self.limits: ModelLimits | None = None
        self.tool_definitions = [*self.tools.definitions(), *server_tools.definitions(settings.tools.server)]
        self.server_tool_calls: list[str] = []
        #: Files code execution produced (recorded as they come: compaction forgets the turns).
        self.produced: list[ProducedFile] = []
        #: A larger output limit for the next turn only (one whose limit ran out while the model thought).
        self._retry_max_tokens: int | None = None
        #: Seconds the session has worked so far (``agent.session_deadline_s`` bounds it).
        self._worked = 0.0
        self._started = 0.0

    def _request(self, messages: list[Message], *, max_tokens: int | None = None) -> TurnRequest:
        model = self.settings.model
        return TurnRequest(model=model.name, system=self.system, messages=list(messages),
                           tools=self.tool_definitions, max_tokens=max_tokens or self.max_tokens,
                           thinking=model.thinking, thinking_display=model.thinking_display, effort=model.effort,
                           container=self.container)

    @property
    def context_window(self) -> int:
        configured = self.settings.agent.context_window
        return configured or (self.limits.context_window if self.limits else 200_000)

    def _account(self, turn: int, result: TurnResult) -> None:
        used = result.usage
        cost = cost_usd(self.settings.model.name, self.settings.prices, used) + server_tools.cost_usd(used)
        self.usage = self.usage + used
        self.cost += cost
        if self.store is not None:
            self.store.record_usage(self.session_id, turn, result.model, used.input_tokens, used.output_tokens,
                                    used.cache_creation_input_tokens, used.cache_read_input_tokens, cost)
        self._emit(UsageUpdated(used, self.usage, self.cost))

    def _check_budget(self) -> None:
        budget = self.settings.agent.budget
        tokens = self.usage.input_tokens + self.usage.output_tokens + \
            self.usage.cache_creation_input_tokens + self.usage.cache_read_input_tokens
        if budget.max_tokens is not None and tokens >= budget.max_tokens:
            raise BudgetExceeded(f"stopped: the session used {tokens:,} tokens, its budget is "
                                 f"{budget.max_tokens:,} (agent.budget.max_tokens)")
        if budget.max_usd is not None and self.cost >= budget.max_usd:
            raise BudgetExceeded(f"stopped: the session cost ${self.cost:.4f}, its budget is "
                                 f"${budget.max_usd:.2f} (agent.budget.max_usd)")

    async def _run_tools(self, calls: list[ToolUseBlock], truncated: bool) -> list[ToolResultBlock]:
        if truncated:
            return [ToolResultBlock(call.id, TRUNCATED_CALL, is_error=True) for call in calls]
        for call in calls:  # an input that is not an object (kept as sent) is described as no parameters
            self._emit(tool_called(call.id, call.name, _params(call)))
        results = await self.tools.run_calls(calls, self.context)
        blocks = []
        limit = self.settings.agent.max_tool_result_chars
        for call, result in zip(calls, results, strict=True):
            self._emit(ToolFinished(call.id, call.name, describe_call(call.name, _params(call)), result.is_error,
                                    result.content[:RESULT_CHARS]))
            content = compaction.truncate_middle(result.content, limit)
            blocks.append(ToolResultBlock(call.id, content, is_error=result.is_error, images=result.images))
        return blocks

    async def run(self, first_message: str, images: Sequence[tuple[str, str]] = ()) -> SessionResult:
        """Run to completion (``images``: (media type, base64) the user attached, before the text).
        ``asyncio.CancelledError`` propagates (the caller owns the task)."""
        attached: list[Block] = [OpaqueBlock("image", {"type": "image", "source": {
            "type": "base64", "media_type": media_type, "data": data}}) for media_type, data in images]
        self.messages = [Message("user", [*attached, TextBlock(first_message)])]
        return await self._loop()

    async def follow_up(self, text: str) -> SessionResult:
        """Continue a finished session with another user message (repair feedback, say).

        The conversation so far is kept verbatim, so the request's prefix is still cached and the
        thinking blocks stay valid; a session that stopped after a user turn gets the text appended
        to that turn (two user messages in a row would be merged by the API anyway).
        """
        if self.messages and self.messages[-1].role == "user":
            self.messages[-1].content.append(TextBlock(text))
        else:
            self.messages.append(Message("user", [TextBlock(text)]))
        return await self._loop()

    async def _loop(self) -> SessionResult:
        self._started = time.monotonic()
        try:
            if self.limits is None:
                self.limits = await self.provider.limits(self.settings.model.name)
            while self.turns < self.settings.agent.max_turns:
                self._check_budget()
                self.turns += 1
                self._emit(TurnStarted(self.turns))
                result = await self._within_deadline(self._model_turn())
                ended = await self._after(result)
                if ended is not None:
                    return ended
            return self._finish("max_turns", error=f"stopped after {self.turns} turns (agent.max_turns) "
                                "before the model finished")
        except BudgetExceeded as exc:
            return self._finish("budget", error=str(exc))
        except AgentlsError as exc:
            log.info("session %s failed: %s", self.session_id, exc)
            return self._finish("failed", error=str(exc))
        finally:
            self._worked += time.monotonic() - self._started

    async def _within_deadline(self, work: Coroutine[Any, Any, TurnResult]) -> TurnResult:
        """The model's part of a turn, cut off at the session deadline (a turn in flight is dropped: the
        transcript stays valid). Tools are not cut off mid-way (their own limits bound them): the deadline
        is checked again before the next turn."""
        limit = self.settings.agent.session_deadline_s
        left = limit - self._worked - (time.monotonic() - self._started)
        passed = DeadlinePassed(f"stopped: the session took longer than {limit:g} s (agent.session_deadline_s)")
        if left <= 0:
            work.close()
            raise passed
        try:
            async with asyncio.timeout(left) as scope:
                return await work
        except TimeoutError:
            if not scope.expired():
                raise
            log.info("session %s passed its deadline (%g s) during a model turn", self.session_id, limit)
            raise passed from None

    async def _model_turn(self) -> TurnResult:
        if self.messages[-1].role == "user":  # never between a paused turn and its continuation
            await self._compact_if_needed()
        return await self._turn()

    async def _turn(self) -> TurnResult:
        """One model turn; a prompt the context window cannot hold is compacted once and asked again."""
        max_tokens, self._retry_max_tokens = self._retry_max_tokens, None
        request = self._request(self.messages, max_tokens=max_tokens)
        try:
            result = await self.provider.stream_turn(request, self._emit)
        except ProviderFailure as exc:
            if exc.kind != "context_window" or not await self._compact(keep_turns=1):
                raise
            request = self._request(self.messages, max_tokens=max_tokens)
            result = await self.provider.stream_turn(request, self._emit)
        self._account(self.turns, result)
        used = result.usage
        self.counter.observe(compaction.request_bytes(request), used.total_input)
        return result

    async def _after(self, result: TurnResult) -> SessionResult | None:
        """Keep the turn and act on its stop reason; a result ends the session, None goes on."""
        stop = result.stop_reason
        if stop == "refusal":
            # Not kept: a conversation that goes on from a refused turn is refused again.
            details = result.stop_details
            return self._finish("failed", error=details.describe() if details else "the model declined this request")
        if stop == "model_context_window_exceeded":
            # The cut-off turn is dropped and asked again from a summary of the session.
            if await self._compact(keep_turns=1):
                return None
            return self._finish("failed", error=f"the session filled {self.settings.model.name}'s context window "
                                f"({self.context_window:,} tokens) and nothing is left to summarise; start a new "
                                "session with a smaller task")
        if stop == "max_tokens" and result.only_thinking:
            return self._thought_too_long(result)
        if result.only_thinking and stop != "pause_turn":
            # The model ended its turn without a word (adaptive thinking decided nothing needed saying):
            # nothing to keep, and the transcript stays valid for a follow-up.
            log.info("session %s: the model ended its turn with no content beside its thinking", self.session_id)
            return self._finish("completed")
        self._keep(result)
        calls = result.tool_calls
        if stop == "pause_turn":
            return None  # the paused turn goes back as the last message; the API continues it
        if calls:
            self.messages.append(Message("user", list(await self._run_tools(calls, stop == "max_tokens"))))
        elif stop == "max_tokens":
            self.messages.append(Message("user", [TextBlock(CONTINUE)]))
        else:
            return self._finish("completed")
        return None

    def _keep(self, result: TurnResult) -> None:
        """Append the turn verbatim; the continuation of a paused turn joins that turn."""
        self.container = result.container or self.container
        paused = self.messages[-1] if self.messages[-1].role == "assistant" else None
        earlier = [b for b in paused.content if not isinstance(b, ToolResultBlock)] if paused else []
        for event in server_tools.finished(result.content, earlier):
            self.server_tool_calls.append(event.summary)
            self._emit(event)
        self.produced += produced_files(result.content)
        if not result.content:
            return
        if paused is not None:
            paused.content.extend(result.content)
        else:
            self.messages.append(Message("assistant", list(result.content)))

    def _thought_too_long(self, result: TurnResult) -> SessionResult | None:
        """The output limit ran out while the model thought: nothing to keep (a turn of only thinking is a
        400), so the turn is asked again, once, with the model's full output limit (that turn only)."""
        ceiling = self.limits.max_output if self.limits else self.max_tokens
        used = result.usage.output_tokens
        if self.max_tokens < ceiling and used < ceiling:
            log.info("session %s: the model thought through all %d output tokens; asking again with %d",
                     self.session_id, self.max_tokens, ceiling)
            self._retry_max_tokens = ceiling
            return None
        limit = max(self.max_tokens, used)
        return self._finish("failed", error=f"the model spent all {limit:,} output tokens of a turn "
                            "thinking and wrote no answer; lower model.effort (or raise model.max_tokens)")

    async def _compact_if_needed(self) -> None:
        """Summarise the session when the next request would come near the context window."""
        limit = int(self.context_window * self.settings.agent.compact_at)
        estimate = compaction.request_bytes(self._request(self.messages)) / self.counter.bytes_per_token
        if estimate + self.max_tokens >= limit:
            await self._compact()

    async def _compact(self, keep_turns: int = compaction.KEEP_TURNS) -> bool:
        """Start the transcript anew from a summary (``compaction``), the newest ``keep_turns`` turns written
        out after it; False when there is nothing to summarise."""
        cut = compaction.split_point(self.messages, keep_turns)
        if cut is None:
            log.info("session %s is near the context window but has nothing left to summarise", self.session_id)
            return False
        before = compaction.request_bytes(self._request(self.messages)) / self.counter.bytes_per_token
        head = compaction.summary_messages(self.messages, cut)
        summary = ""
        try:
            result = await self.provider.stream_turn(
                self._request(head, max_tokens=min(self.max_tokens, SUMMARY_MAX_TOKENS)), lambda event: None)
        except BudgetExceeded:
            raise
        except AgentlsError as exc:  # the summary is an optimisation: a failed one must not end the session
            log.warning("session %s: the summary turn failed (%s); summarising mechanically", self.session_id, exc)
        else:
            self._account(self.turns, result)
            if result.stop_reason == "end_turn":  # a summary cut short (or refused) is no summary
                summary = text_of(result.content).strip()
        if not summary:
            summary = compaction.fallback_summary(self.messages[:cut])
        self.messages = compaction.compacted(self.messages, cut, summary)
        after = compaction.request_bytes(self._request(self.messages)) / self.counter.bytes_per_token
        log.info("session %s: compacted into a summary (~%d -> ~%d tokens)", self.session_id, int(before), int(after))
        self._emit(Compacted(int(before), int(after)))
        return True

    def _finish(self, status: Status, error: str = "") -> SessionResult:
        summary = ""
        for message in reversed(self.messages):
            if message.role == "assistant":
                summary = text_of(message.content).strip()
                if summary:
                    break
        return SessionResult(status, summary, self.turns, self.usage, self.cost, error, self.messages,
                             list(self.server_tool_calls), list(self.produced))


class DeadlinePassed(BudgetExceeded):
    """The session worked past ``agent.session_deadline_s``: a budget of time."""


def _params(call: ToolUseBlock) -> dict[str, Any]:
    return dict(call.input) if isinstance(call.input, dict) else {}
