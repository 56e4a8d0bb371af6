"""An agent session's progress as LSP ``$/progress`` (work done progress), cancellable by the user, and, for
clients that opted in (``initializationOptions.sessionStatus``), as ``agentls/sessionStatus`` notifications.

Both say the same: the activity line ("reading core.py", "retrying in 8 s: the API is overloaded"), the
thinking summary, and at the end "4 changes proposed in 2 files" or one failure line. A failure is shown
once: a client that gets the status gets no ``window/showMessage`` for it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

from agentls.agent.events import AgentEvent, Notice, UsageUpdated
from agentls.lsp.session_status import NOTIFICATION, SessionStatus, State, StatusSender, changes_message
from agentls.providers.base import Retrying, ThinkingDelta
from agentls.secrets import redact

if TYPE_CHECKING:
    from collections.abc import Iterable

    from agentls.edits.proposal import Proposal
    from agentls.lsp.server import AgentLanguageServer

log = logging.getLogger(__name__)


def proposed_changes(proposals: Iterable[Proposal]) -> tuple[int, int]:
    """(changes, files): the hunks still to review (pending or in conflict) and the files they are in."""
    counts = [sum(1 for state in p.states.values() if state in ("pending", "conflict")) for p in proposals]
    return sum(counts), sum(1 for n in counts if n)


class SessionProgress:
    """Begin / report / end for one session; a client-side cancel cancels ``task``. With a ``session_id``
    and a client that opted in, the same as ``agentls/sessionStatus``."""

    def __init__(self, server: AgentLanguageServer, title: str, session_id: str | None = None) -> None:
        self.server = server
        self.title = title
        self.token: str | None = None
        self.task: asyncio.Task[object] | None = None
        self.status = SessionStatus(session_id or "", title)
        opted_in = session_id is not None and server.state.session_status
        self.sender = StatusSender(self.status, self._notify if opted_in else None, self._report_activity)
        #: The client shows failures from the status line: no ``window/showMessage`` for them.
        self.shows_failures = opted_in

    def _notify(self, payload: dict[str, object]) -> None:
        for key in ("message", "activity", "thinking"):
            if isinstance(payload.get(key), str):
                payload = {**payload, key: redact(str(payload[key]))}
        self.server.protocol.notify(NOTIFICATION, payload)

    def _supported(self) -> bool:
        return self.server.client_features.work_done_progress

    async def begin(self, message: str) -> None:
        self.status.activity = message.rstrip("…")
        self.sender.update(now=True)
        if not self._supported():
            return
        token = f"agentls-{uuid.uuid4().hex[:8]}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception:
            log.info("the client refused a progress token", exc_info=True)
            return
        if self.status.state != "running":
            return  # ended while the client answered
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
            self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=redact(message)))

    def _report_activity(self) -> None:
        self.report(self.status.activity)

    def event(self, event: AgentEvent) -> None:
        """Fold the event into the status; report what changed."""
        if isinstance(event, Notice):
            self.server.warn_once(event.text)
            return
        if self.status.state != "running":
            return
        thinking = self.status.thinking
        changed = self.status.feed(event)
        if isinstance(event, Retrying):
            self.sender.count_down()  # a second each, until the retried call streams
        if not changed:
            return
        if isinstance(event, ThinkingDelta) and self.status.thinking != thinking:
            self.report(self.status.thinking)
        elif not isinstance(event, UsageUpdated):
            self._report_activity()
        # A retry is news the user waits on: it goes at once, not after the throttle (a short wait
        # would otherwise be overtaken by the retried call's first event and never be shown).
        self.sender.update(now=isinstance(event, Retrying))

    def finish(self, changes: tuple[int, int]) -> None:
        """The session ended with proposals: "4 changes proposed in 2 files" (or "no changes proposed")."""
        self._end("done", changes_message(*changes), changes)

    def fail(self, message: str) -> None:
        """The session failed: one line, shown once (the status, or else a ``window/showMessage``)."""
        self._end("failed", message)
        if not self.shows_failures:
            self.server.notify_user(message)

    def end(self, message: str, state: State | None = None) -> None:
        """End ``$/progress`` with ``message``; the status ends as ``state`` (by default: done, or cancelled
        for "cancelled")."""
        self._end(state or ("cancelled" if message == "cancelled" else "done"), message)

    def _end(self, state: State, message: str, changes: tuple[int, int] | None = None) -> None:
        if self.status.state == "running":
            if changes is not None:
                self.status.changes = changes
            self.status.end(state, message)
            self.sender.close()
        if self.token is not None:
            token, self.token = self.token, None
            text = f"failed: {message}" if state == "failed" else message
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=redact(text)))
            self.server.work_done_progress.tokens.pop(token, None)
