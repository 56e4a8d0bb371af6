"""``run_task``: one agent session, run where the runtime runs sessions: in its agent host when it has
one (the language server), else in this process (the CLIs; ``task_session``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentls.agent.events import AgentEvent
from agentls.workflows.task import TaskOutcome, TaskSpec

if TYPE_CHECKING:
    from agentls.runtime import Runtime


async def run_task(runtime: Runtime, spec: TaskSpec,
                   on_event: Callable[[AgentEvent], None] | None = None) -> TaskOutcome:
    """Run an agent session where the runtime runs sessions (its agent host, if it has one); its events
    reach ``on_event`` on the caller's loop."""
    if runtime.host is not None:
        outcome: TaskOutcome = await runtime.host.call("run_task", spec, on_event=on_event)
        return outcome
    from agentls.workflows.task_session import run_session

    return await run_session(runtime, spec, on_event)
