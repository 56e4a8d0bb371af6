"""An agent session's progress as LSP ``$/progress`` (work done progress), cancellable by the user."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

from agentls.agent.events import (
    AgentEvent,
    ServerToolFinished,
    ThinkingLine,
    ToolCalled,
    TurnStarted,
    UsageUpdated,
)
from agentls.providers.base import Retrying, ThinkingDelta

if TYPE_CHECKING:
    from agentls.lsp.server import AgentLanguageServer

log = logging.getLogger(__name__)


class SessionProgress:
    """Begin / report / end for one session; a client-side cancel cancels ``task``."""

    def __init__(self, server: AgentLanguageServer, title: str) -> None:
        self.server = server
        self.title = title
        self.token: str | None = None
        self.task: asyncio.Task[object] | None = None
        self._cost = ""
        self._thinking = ThinkingLine()

    def _supported(self) -> bool:
        return self.server.client_features.work_done_progress

    async def begin(self, message: str) -> None:
        if not self._supported():
            return
        token = f"agentls-{uuid.uuid4().hex[:8]}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception:
            log.info("the client refused a progress token", exc_info=True)
            return
        self.token = token
        future = self.server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(self._cancelled_by_user)
        self.server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=self.title, message=message, cancellable=True))

    def _cancelled_by_user(self, future: object) -> None:
        cancelled = getattr(future, "cancelled", lambda: False)()
        if cancelled and self.task is not None and not self.task.done():
            log.info("progress %s cancelled by the user", self.token)
            self.task.cancel()

    def report(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def event(self, event: AgentEvent) -> None:
        """Turn agent events into short progress messages."""
        if isinstance(event, UsageUpdated):
            self._cost = f" · ${event.cost_usd:.4f}"
        elif isinstance(event, TurnStarted):
            self._thinking.reset()
            self.report(f"turn {event.turn}: thinking…{self._cost}")
        elif isinstance(event, ThinkingDelta):
            if (line := self._thinking.feed(event.text)) is not None:
                self.report(f"{line}{self._cost}")
        elif isinstance(event, ToolCalled | ServerToolFinished):
            self.report(f"{event.summary}{self._cost}")
        elif isinstance(event, Retrying):
            self._thinking.reset()  # the failed attempt's half sentence is void
            self.report(f"model busy, retrying in {event.delay_s:.1f}s")

    def end(self, message: str) -> None:
        if self.token is not None:
            token, self.token = self.token, None
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
            self.server.work_done_progress.tokens.pop(token, None)
