"""What running a plan is made of, apart from the scheduler: the decisions after a failed step, how a
step's edits reach the files (``Applier``), what front ends hear (``PlanEvents``), which steps to run
and in what order, a step's first message, and rolling a plan back to before a step."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from agentls.agent.events import AgentEvent
from agentls.errors import AgentlsError
from agentls.plans.book import PlanBook
from agentls.plans.models import FINISHED, Plan, PlanError, Step
from agentls.questions import Option, Question
from agentls.store.plans import ExecutionRow

if TYPE_CHECKING:
    from agentls.workflows.task import TaskOutcome

Decision = Literal["retry", "skip", "edit", "rollback", "stop"]
DECISIONS: tuple[Decision, ...] = ("retry", "skip", "edit", "rollback", "stop")
#: States a step may be (re)run from without the user naming it.
RUNNABLE = frozenset({"pending", "blocked", "cancelled"})
DEFAULT_PARALLEL = 2



class StepFailed(AgentlsError):
    """A step did not complete: the session failed, its edits could not be applied, or it failed verification."""


class Applier(Protocol):
    """How a finished step's edits reach the files (the front end decides)."""

    #: True: ``run_command`` writes pending edits to disk before running (the edits reach the disk anyway).
    commit_before_commands: bool

    def buffers(self) -> dict[str, str]:
        """The editor's open documents (path -> text) the session starts from."""
        ...

    async def apply(self, plan: Plan, step: Step, outcome: TaskOutcome) -> list[str]:
        """Apply the session's edits; returns the paths changed. Raises ``AgentlsError`` when it cannot."""
        ...


class DiskApplier:
    """Write the step's edits to disk (the headless CLI): the step's checkpoint was taken before."""

    commit_before_commands = True

    def buffers(self) -> dict[str, str]:
        return {}

    async def apply(self, plan: Plan, step: Step, outcome: TaskOutcome) -> list[str]:
        return await asyncio.to_thread(outcome.overlay.commit)


class PlanEvents:
    """What the front end hears about (progress, notifications, log lines). No-ops by default."""

    def plan_changed(self, plan: Plan) -> None:
        """Any state change of the plan or a step (already saved)."""

    def step_started(self, plan: Plan, step: Step) -> None:
        pass

    def step_event(self, plan: Plan, step: Step, event: AgentEvent) -> None:
        pass

    def step_message(self, plan: Plan, step: Step, message: str) -> None:
        pass

    def step_finished(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
        pass


Restore = Callable[[str], Awaitable[Any]]

#: The answers to "step N failed: what now?", in the order front ends show them.
FAILURE_OPTIONS = (Option("retry", "Retry", "allow_once"), Option("skip", "Skip", "allow_once"),
                   Option("edit", "Edit plan", "allow_once"), Option("rollback", "Roll back", "reject_once", key="b"),
                   Option("stop", "Stop", "reject_once", key="q"))


def failure_question(plan: Plan, step: Step, error: str, session_id: str | None = None) -> Question:
    """What the user is asked after ``step`` failed (in session ``session_id``); the default (nobody
    answers) stops the plan."""
    return Question("plan_step", f"plan {plan.id}: step {step.id} ({step.title}) failed", FAILURE_OPTIONS,
                    default="stop", detail=error, session_id=session_id,
                    subject={"planId": plan.id, "stepId": step.id})


def as_decision(answer: str) -> Decision:
    return next((d for d in DECISIONS if d == answer), "stop")


@dataclass
class RunResult:
    plan: Plan
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rolled_back: dict[str, Any] | None = None


def step_prompt(plan: Plan, step: Step) -> str:
    """The step's first message: the whole plan for context, then the step itself."""
    lines = [f"You are carrying out one step of an approved plan. The plan's task: {plan.instruction.strip()}", "",
             "<plan>"]
    for other, parent in plan.walk():
        indent = "  " if parent is not None else ""
        mark = " <- this step" if other.id == step.id else f" [{other.status}]"
        lines.append(f"{indent}{other.id}. {other.title}{mark}")
    lines += ["</plan>", "", f"Your step: {step.id}. {step.title}"]
    if step.description:
        lines += ["", step.description]
    if step.files:
        lines += ["", "Files this step is expected to touch: " + ", ".join(f"`{f}`" for f in step.files)]
    if step.verify:
        lines += ["", f"When you finish, agentls checks the step with: `{step.verify}`"]
    return "\n".join(lines)


def select_steps(plan: Plan, step_ids: Sequence[str] | None) -> list[str]:
    """The steps to run, in dependency order. Without ``step_ids``: every pending step (failed and
    interrupted steps only when named). Raises when a chosen step needs one that will not be finished."""
    order = plan.order()
    by_id = {step.id: step for step in plan.flat()}
    if step_ids:
        chosen: set[str] = set()
        for step_id in step_ids:
            step = plan.step(step_id)
            chosen |= {s.id for s, _ in step.walk() if s.status not in FINISHED or s.id in step_ids}
    else:
        chosen = {step_id for step_id in order if by_id[step_id].status in RUNNABLE}
    needs = plan.requirements()
    for step_id in order:
        if step_id not in chosen:
            continue
        for need in sorted(needs[step_id]):
            if need not in chosen and by_id[need].status not in FINISHED:
                state = by_id[need].status
                hint = "retry it (run it again), skip it or roll back" if state in ("failed", "interrupted") \
                    else "run it too"
                raise PlanError(f"step {step_id} needs step {need}, which is {state}: {hint}")
    return [step_id for step_id in order if step_id in chosen]


async def rollback(book: PlanBook, plan: Plan, step_id: str, restore: Restore) -> dict[str, Any]:
    """Restore the checkpoint taken before ``step_id`` first ran (since any earlier rollback); that step,
    every step that ran after it or alongside it (or depends on it) go back to pending. ``restore``
    does the restore (itself undoable)."""
    step = plan.step(step_id)
    if any(s.status in ("running", "review") for s in plan.flat()):
        raise PlanError(f"plan {plan.id} is running; cancel it before rolling back")
    leaves = [s for s, _ in step.walk() if not s.is_group]
    runs = [row for row in book.plans.executions(plan.id) if row.step_id in {s.id for s in leaves}
            and row.checkpoint_before and not row.rolled_back]
    if not runs:
        raise PlanError(f"step {step_id} has not run (or was rolled back already): there is no checkpoint "
                        "from before it")
    # The earliest attempt not rolled back: a later attempt's checkpoint may hold an earlier
    # (failed or interrupted) attempt's partial writes.
    target = min(runs, key=lambda row: row.started)
    assert target.checkpoint_before is not None
    restored = await restore(target.checkpoint_before)
    # Every run that had not finished when the target started: the whole-tree checkpoint predates
    # (some of) its edits, so the restore undoes them too (steps that ran alongside the target).
    later = [row for row in book.plans.executions(plan.id) if not row.rolled_back
             and (row.started >= target.started or row.ended is None or row.ended >= target.started)]
    book.plans.mark_rolled_back([row.id for row in later])
    reset = {row.step_id for row in later} | {s.id for s, _ in step.walk()} | plan.dependants(step_id)
    by_id = {s.id: s for s in plan.flat()}
    for reset_id in sorted(reset):
        if reset_id in by_id:
            book.set_step(plan, by_id[reset_id], "pending")
    book.set_status(plan, book.overall(plan))
    book.plans.log(plan.id, step_id, "info", f"rolled back to before step {step_id} "
                   f"(checkpoint {target.checkpoint_before}); steps {', '.join(sorted(reset))} are pending again")
    book.write_document(plan)
    return {"checkpoint": target.checkpoint_before, "steps": sorted(reset), "restore": restored}
