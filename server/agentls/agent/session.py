"""One agent session: the loop of model turns and tool calls until the model ends its turn.

The loop knows nothing about editors or terminals: it streams events to a callback, keeps edits in
the overlay the caller gave it (the caller decides whether they reach the disk or become
proposals), records usage, and stops on end_turn, the turn limit, the budget or cancellation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from agentls.agent import compaction
from agentls.agent.cost import cost_usd, price_for
from agentls.agent.events import (
    AgentEvent,
    Compacted,
    ToolCalled,
    ToolFinished,
    TurnStarted,
    UsageUpdated,
    describe_call,
)
from agentls.agent.tools.base import ToolContext
from agentls.agent.tools.registry import ToolRegistry
from agentls.config import Settings
from agentls.context.tokens import COUNTER, TokenCounter
from agentls.errors import AgentlsError, BudgetExceeded
from agentls.providers.base import (
    Message,
    Provider,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    TurnRequest,
    TurnResult,
    Usage,
)
from agentls.store.db import Store

log = logging.getLogger(__name__)

Status = Literal["completed", "failed", "cancelled", "budget", "max_turns"]
CONTINUE = "Your previous reply was cut off by the output token limit. Continue where you stopped."
TRUNCATED_CALL = ("This tool call was cut off by the output token limit and was not run. "
                  "Send it again, splitting large edits into several smaller calls.")


@dataclass
class SessionResult:
    status: Status
    summary: str
    turns: int
    usage: Usage
    cost_usd: float
    error: str = ""
    messages: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"


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
        self._price = price_for(settings.model.name, settings.prices)
        self.usage = Usage()
        self.cost = 0.0
        self.turns = 0
        self.messages: list[Message] = []
        self.counter = counter or COUNTER
        self.compactions = 0

    def _request(self, messages: list[Message]) -> TurnRequest:
        model = self.settings.model
        return TurnRequest(model=model.name, system=self.system, messages=list(messages),
                           tools=self.tools.definitions(), max_tokens=model.max_tokens,
                           temperature=model.temperature)

    def _account(self, turn: int, result: TurnResult) -> None:
        used = result.usage
        cost = cost_usd(self._price, used.input_tokens, used.output_tokens,
                        used.cache_creation_input_tokens, used.cache_read_input_tokens)
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
        for call in calls:
            self._emit(ToolCalled(call.id, call.name, describe_call(call.name, call.input)))
        results = await self.tools.run_calls(calls, self.context)
        blocks = []
        limit = self.settings.agent.max_tool_result_chars
        for call, result in zip(calls, results, strict=True):
            self._emit(ToolFinished(call.id, call.name, describe_call(call.name, call.input), result.is_error))
            content = compaction.truncate_middle(result.content, limit)
            blocks.append(ToolResultBlock(call.id, content, is_error=result.is_error))
        return blocks

    async def run(self, first_message: str) -> SessionResult:
        """Run to completion. ``asyncio.CancelledError`` propagates (the caller owns the task)."""
        self.messages = [Message("user", [TextBlock(first_message)])]
        return await self._loop()

    async def follow_up(self, text: str) -> SessionResult:
        """Continue a finished session with another user message (repair feedback, say).

        The conversation so far is kept verbatim, so the request's prefix is still cached.
        """
        self.messages.append(Message("user", [TextBlock(text)]))
        return await self._loop()

    async def _loop(self) -> SessionResult:
        messages = self.messages
        try:
            while self.turns < self.settings.agent.max_turns:
                self._check_budget()
                self.turns += 1
                turn = self.turns
                self._emit(TurnStarted(turn))
                await self._compact_if_needed()
                messages = self.messages
                request = self._request(messages)
                result = await self.provider.stream_turn(request, self._emit)
                self._account(turn, result)
                used = result.usage
                self.counter.observe(compaction.request_bytes(request), used.input_tokens
                                     + used.cache_creation_input_tokens + used.cache_read_input_tokens)
                messages.append(Message("assistant", list(result.content)))
                calls = result.tool_calls
                if result.stop_reason == "refusal":
                    return self._finish("failed", error="the model declined this request")
                if calls:
                    truncated = result.stop_reason == "max_tokens"
                    messages.append(Message("user", list(await self._run_tools(calls, truncated))))
                elif result.stop_reason == "max_tokens":
                    messages.append(Message("user", [TextBlock(CONTINUE)]))
                elif result.stop_reason == "pause_turn":
                    continue
                else:
                    return self._finish("completed")
            return self._finish("max_turns", error=f"stopped after {self.turns} turns (agent.max_turns) "
                                "before the model finished")
        except BudgetExceeded as exc:
            return self._finish("budget", error=str(exc))
        except AgentlsError as exc:
            log.info("session %s failed: %s", self.session_id, exc)
            return self._finish("failed", error=str(exc))

    async def _compact_if_needed(self) -> None:
        """Summarise the older turns when the next request would come near the context window."""
        agent = self.settings.agent
        limit = int(agent.context_window * agent.compact_at)
        request = self._request(self.messages)
        estimate = compaction.request_bytes(request) / self.counter.bytes_per_token + self.settings.model.max_tokens
        if estimate < limit:
            return
        cut = compaction.split_point(self.messages)
        if cut is None:
            log.info("session %s is near the context window but has nothing left to summarise", self.session_id)
            return
        summary_request = TurnRequest(
            model=request.model, system=request.system, tools=request.tools, temperature=request.temperature,
            messages=compaction.summary_messages(self.messages, cut),
            max_tokens=min(self.settings.model.max_tokens, 4_096))
        try:
            result = await self.provider.stream_turn(summary_request, lambda event: None)
        except BudgetExceeded:
            raise
        except AgentlsError as exc:  # the summary is an optimisation: a failed one must not end the session
            log.warning("session %s: the summary turn failed (%s); summarising mechanically", self.session_id, exc)
            summary = ""
        else:
            self._account(self.turns, result)
            summary = "".join(b.text for b in result.content if isinstance(b, TextBlock)).strip()
        if not summary:
            summary = compaction.fallback_summary(self.messages[:cut])
        before = len(self.messages)
        self.messages = compaction.compacted(self.messages, cut, summary)
        self.compactions += 1
        after = compaction.request_bytes(self._request(self.messages)) / self.counter.bytes_per_token
        log.info("session %s: compacted %d messages into a summary (~%d -> ~%d tokens)",
                 self.session_id, before - len(self.messages) + 1, int(estimate), int(after))
        self._emit(Compacted(int(estimate), int(after)))

    def _finish(self, status: Status, error: str = "") -> SessionResult:
        summary = ""
        for message in reversed(self.messages):
            if message.role == "assistant":
                summary = "".join(b.text for b in message.content if isinstance(b, TextBlock)).strip()
                if summary:
                    break
        return SessionResult(status, summary, self.turns, self.usage, self.cost, error, self.messages)
