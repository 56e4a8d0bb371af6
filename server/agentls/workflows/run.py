"""``run_task``: one agent session, run where the runtime runs sessions: in its agent host when it has
one (the language server), else in this process (the CLIs; ``task_session``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
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
        session_id = spec.session_id or uuid.uuid4().hex[:12]

        def republish(event: AgentEvent) -> None:  # the host's events, on this process's bus too
            runtime.events.publish(session_id, event)
            if on_event is not None:
                on_event(event)

        outcome: TaskOutcome = await runtime.host.call("run_task", replace(spec, session_id=session_id),
                                                       on_event=republish)
        return outcome
    from agentls.workflows.task_session import run_session

    return await run_session(runtime, spec, on_event)
