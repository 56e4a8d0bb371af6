"""One ACP session: its workspace runtime, mode, conversation so far, and the pump that sends its updates.

Session events arrive on the runtime's bus in whatever thread published them; they are queued onto the
loop and sent in order by one pump task, so a ``session/prompt`` answers only after every update of its
turn went out (``drain``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentls.acp.updates import updates_for

if TYPE_CHECKING:
    from agentls.agent.events import SessionEvent
    from agentls.plans.models import Step
    from agentls.runtime import Runtime

log = logging.getLogger(__name__)

DRAIN_S = 10.0

MODES = {
    "ask": "Answers and explains; reads the project, changes nothing.",
    "edit": "Proposes changes; each file is written only once you allow it (checkpointed first).",
    "plan": "Drafts a plan of steps, without changing anything; run it with /plan run.",
    "auto": "Writes its changes without asking (still checkpointed: /rollback undoes them).",
}


@dataclass
class Exchange:
    """One prompt of the conversation, as the next prompt is told about it."""

    prompt: str
    summary: str = ""
    applied: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


@dataclass
class AcpSession:
    id: str
    root: Path
    runtime: Runtime
    send: Any  # async (session_id, update) -> None: the client's session/update
    mode: str = "edit"
    history: list[Exchange] = field(default_factory=list)
    #: Files the user allowed for the rest of the session ("allow always").
    always: bool = False
    plan: list[Step] = field(default_factory=list)
    plan_instruction: str = ""
    work: asyncio.Task[Any] | None = None
    turns: int = 0
    _queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    _pump: asyncio.Task[None] | None = None

    def next_session_id(self) -> str:
        """The store's id of the next agentls session of this conversation (``<acp id>-<n>``)."""
        self.turns += 1
        return f"{self.id}-{self.turns}"

    def start(self) -> None:
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run_pump(), name=f"acp-pump:{self.id}")

    def on_event(self, item: SessionEvent) -> None:
        """A bus subscriber (any thread): this conversation's sessions only."""
        if not item.session_id.startswith(f"{self.id}-"):
            return
        data = dataclasses.asdict(item.event)
        window = self.runtime.settings.agent.context_window or 1_000_000
        loop = self._loop
        for update in updates_for(item.kind, data, self.root, window):
            loop.call_soon_threadsafe(self._queue.put_nowait, update)

    def push(self, update: Any) -> None:
        """An update from the loop's own thread, in order with the events'."""
        self._queue.put_nowait(update)

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        assert self._pump is not None
        return self._pump.get_loop()

    async def _run_pump(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                await self.send(self.id, update)
            except ConnectionError:
                log.info("ACP client gone: dropping the updates of session %s", self.id)
            except Exception:
                log.warning("could not send a session/update", exc_info=True)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued update was sent (thread-published ones included); a client that stopped
        reading is not waited for longer than ``DRAIN_S``."""
        await asyncio.sleep(0)  # let call_soon_threadsafe callbacks land
        try:
            await asyncio.wait_for(self._queue.join(), DRAIN_S)
        except TimeoutError:
            log.warning("ACP: %d updates of session %s not sent in %g s", self._queue.qsize(), self.id, DRAIN_S)

    def context(self, prompt: str) -> str | None:
        """The first message of the next agentls session: the conversation so far, then the prompt."""
        if not self.history:
            return None
        lines = ["Earlier in this conversation (you do not remember it otherwise):"]
        for exchange in self.history[-10:]:
            lines.append(f"- The user asked: {exchange.prompt[:2_000]}")
            if exchange.summary:
                lines.append(f"  You answered: {exchange.summary[:2_000]}")
            if exchange.applied:
                lines.append(f"  Your changes were applied to: {', '.join(exchange.applied)}")
            if exchange.rejected:
                lines.append(f"  The user rejected your change to: {', '.join(exchange.rejected)} "
                             "(those files are as they were)")
        return "\n".join(lines) + f"\n\nNow the user asks:\n{prompt}"

    async def close(self) -> None:
        if self.work is not None and not self.work.done():
            self.work.cancel()
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
