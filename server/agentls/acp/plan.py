"""Plan mode over ACP: the architect drafts a plan read-only, sent as ACP ``plan`` entries; ``/plan run``
then carries its steps out one by one (each an agentls session whose changes are resolved as in edit or
auto mode), the entries' status following."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acp import helpers

from agentls.acp.session import Exchange

if TYPE_CHECKING:
    from agentls.acp.session import AcpSession
    from agentls.acp.turn import Client
    from agentls.plans.models import Step


def leaves(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        out.extend(leaves(step.substeps) if step.substeps else [step])
    return out


def plan_update(steps: list[Step]) -> object:
    status = {"done": "completed", "completed": "completed", "running": "in_progress", "in_progress": "in_progress"}
    return helpers.update_plan([helpers.plan_entry(f"{s.id}. {s.title}", priority="medium",
                                                   status=status.get(s.status, "pending"))  # type: ignore[arg-type]
                                for s in leaves(steps)])


async def draft(session: AcpSession, text: str, buffers: dict[str, str], files: list[str]) -> Exchange:
    from agentls.workflows.plan_draft import draft_plan

    exchange = Exchange(text)
    outcome = await draft_plan(session.runtime, text, files_in_play=files, buffers=buffers,
                               session_id=session.next_session_id())
    session.plan, session.plan_instruction = outcome.steps, text
    session.push(plan_update(outcome.steps))
    count = len(leaves(outcome.steps))
    exchange.summary = outcome.summary or f"A plan of {count} steps."
    session.push(helpers.update_agent_message_text(
        f"\n\n{exchange.summary}\n\nRun it with /plan run (in edit mode each file is asked about; in auto mode "
        "it is written)."))
    return exchange


async def run(client: Client, session: AcpSession) -> Exchange:
    """Carry out the pending steps in order; stops at the first step that fails."""
    from agentls.acp.turn import resolve
    from agentls.workflows.run import run_task
    from agentls.workflows.task import TaskSpec

    exchange = Exchange(f"/plan run ({session.plan_instruction[:200]})")
    if not session.plan:
        session.push(helpers.update_agent_message_text("There is no plan yet: switch to plan mode and ask for one."))
        return exchange
    for step in leaves(session.plan):
        if step.status in ("done", "completed"):
            continue
        step.status = "in_progress"
        session.push(plan_update(session.plan))
        message = (f"Carry out this step of a plan for: {session.plan_instruction}\n\nStep {step.id}: {step.title}\n"
                   f"{step.description}\n" + (f"Files: {', '.join(step.files)}\n" if step.files else ""))
        outcome = await run_task(session.runtime, TaskSpec(instruction=step.title, first_message=message,
                                                           kind="task", session_id=session.next_session_id()))
        step_exchange = Exchange(step.title, outcome.result.summary)
        await resolve(client, session, outcome, step_exchange)
        exchange.applied += step_exchange.applied
        exchange.rejected += step_exchange.rejected
        if not outcome.result.ok:
            step.status = "failed"
            session.push(plan_update(session.plan))
            session.push(helpers.update_agent_message_text(
                f"\n\nStep {step.id} failed: {outcome.result.error or outcome.result.status}. The plan stops here."))
            break
        step.status = "done"
        session.push(plan_update(session.plan))
    exchange.summary = "Ran the plan's steps."
    return exchange
