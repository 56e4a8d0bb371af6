"""A running plan as the editor sees it: ``$/progress`` for the plan and for each step, and
``agentls/planUpdated`` on every change of state."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentls.agent.events import AgentEvent
    from agentls.lsp.handlers.plan_commands import PlanRunner
    from agentls.lsp.progress import SessionProgress
    from agentls.lsp.server import AgentLanguageServer
    from agentls.lsp.session_status import State
    from agentls.plans.models import Plan, Step
    from agentls.store.plans import ExecutionRow



class PlanProgress:
    """``$/progress`` for the plan and each step, ``agentls/planUpdated`` on every change."""

    def __init__(self, ls: AgentLanguageServer, plans: PlanRunner, plan_progress: SessionProgress) -> None:
        from agentls.workflows.plan_steps import PlanEvents

        self.ls, self.plans, self.plan_progress = ls, plans, plan_progress
        self.steps: dict[str, SessionProgress] = {}
        self._pending: set[asyncio.Task[None]] = set()
        outer = self

        class Events(PlanEvents):
            def plan_changed(self, plan: Plan) -> None:
                outer.plans.updated(plan)

            def step_started(self, plan: Plan, step: Step) -> None:
                outer.started(plan, step)

            def step_event(self, plan: Plan, step: Step, event: AgentEvent) -> None:
                progress = outer.steps.get(step.id)
                if progress is not None:
                    progress.event(event)

            def step_message(self, plan: Plan, step: Step, message: str) -> None:
                progress = outer.steps.get(step.id)
                if progress is not None:
                    progress.report(message)

            def step_finished(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
                outer.finished(plan, step, execution)

        self.events = Events()

    def started(self, plan: Plan, step: Step) -> None:
        from agentls.agent.events import shorten
        from agentls.lsp.progress import SessionProgress

        order = plan.order()
        position = f"{order.index(step.id) + 1}/{len(order)}"
        self.plan_progress.report(f"step {step.id} ({position}): {step.title}")
        progress = SessionProgress(self.ls, f"agentls plan step {step.id}: {shorten(step.title, 60)}",
                                   f"{plan.id}/{step.id}")
        self.steps[step.id] = progress
        task = asyncio.get_running_loop().create_task(progress.begin("starting…"))
        self._pending.add(task)  # keep a reference until it is done
        task.add_done_callback(self._pending.discard)

    def finished(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
        progress = self.steps.pop(step.id, None)
        verify = f", verify {execution.verify_status}" if execution.verify_status else ""
        message = f"{execution.status}{verify} · ${execution.cost_usd:.4f}"
        if execution.error:
            message += f": {execution.error}"
        if progress is not None:
            state: State = ("done" if execution.status == "done" else
                            "cancelled" if execution.status in ("cancelled", "interrupted") else "failed")
            progress.end(message, state)
        self.plan_progress.report(f"step {step.id} {message}")

    def close(self) -> None:
        for progress in self.steps.values():
            progress.end("stopped")
        self.steps.clear()
