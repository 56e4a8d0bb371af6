"""Running an approved plan: dependency order, bounded concurrency, a checkpoint per step, verification.

For each step, in an order that respects its dependencies:

1. a checkpoint of the whole workspace (what "roll back to this step" restores);
2. an agent session in the step's role (coder or tester), scoped to the step: the plan is shown
   for context, the step is the task; its edits collect in an overlay;
3. the edits are applied by the front end's ``Applier``: written to disk (CLI, auto-apply), or
   proposed for review in the editor and waited for;
4. verification: the step's command under the sandbox, when command running is enabled;
5. the outcome, recorded with tokens, cost, files changed and checkpoint ids.

Steps whose dependencies are finished and whose files are disjoint from the running steps' run
at the same time (at most ``max_parallel``); a step that names no files runs alone. A failed step
blocks its dependants and asks the user (``failure_question``): retry (its files are restored first), skip,
edit the plan, or roll back. Every state change is saved before it is announced, so a restarted
server reports a step cut short as interrupted and never runs it again by itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from agentls.agent.events import AgentEvent, FilesWritten
from agentls.errors import AgentlsError
from agentls.plans.book import PlanBook
from agentls.plans.models import FINISHED, Plan, PlanError, Step
from agentls.plans.verify import Verification, verify
from agentls.questions import Asker
from agentls.store.plans import ExecutionRow

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoints
    from agentls.runtime import Runtime

from agentls.workflows.plan_steps import (
    DEFAULT_PARALLEL,
    Applier,
    Decision,
    PlanEvents,
    Restore,
    RunResult,
    StepFailed,
    as_decision,
    failure_question,
    rollback,
    select_steps,
    step_prompt,
)

log = logging.getLogger(__name__)


class PlanExecutor:
    """Runs a plan's steps over ``runtime`` (its sessions, checkpoint history and settings)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        book: PlanBook,
        applier: Applier,
        events: PlanEvents | None = None,
        ask: Asker | None = None,
        restore: Restore | None = None,
        max_parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        self.runtime = runtime
        self.book = book
        self.root = runtime.root
        self.settings = runtime.settings
        self.applier = applier
        self.audit = runtime.audit()
        self.events = events or PlanEvents()
        #: Who decides after a failed step (``failure_question``): the runtime's front end by default.
        self.ask: Asker = ask or runtime.ask
        self.restore = restore
        self.max_parallel = max(1, max_parallel)
        self.cancel = threading.Event()
        #: Set before cancelling the run when the server shuts down: the steps cut short are recorded
        #: as interrupted (never re-run unless named), not cancelled by the user.
        self.interrupting = False

    # -- the schedule -----------------------------------------------------------------------------
    async def run(self, plan: Plan, step_ids: Sequence[str] | None = None) -> RunResult:
        selected = select_steps(plan, step_ids)
        if not selected:
            raise PlanError(f"plan {plan.id} has no step left to run" +
                            ("" if plan.status == "done" else " (name failed or interrupted steps to run them again)"))
        result = RunResult(plan)
        self.book.set_status(plan, "running")
        self.book.plans.log(plan.id, None, "info", f"running step(s) {', '.join(selected)}")
        self.events.plan_changed(plan)
        needs = plan.requirements()
        by_id = {step.id: step for step in plan.flat()}
        waiting = list(selected)
        running: dict[asyncio.Task[Decision | None], Step] = {}
        rollback_to: str | None = None
        halted = False  # after "rollback", "stop" or "edit": start nothing more, let the running steps end
        try:
            while waiting or running:
                if not halted:
                    self._block_dependants(plan, waiting, needs, by_id, result, running.values())
                    for step_id in list(waiting):
                        step = by_id[step_id]
                        if len(running) >= self.max_parallel:
                            break
                        if not all(by_id[n].status in FINISHED for n in needs[step_id]):
                            continue
                        if not self._can_run_beside(step, list(running.values())):
                            continue
                        waiting.remove(step_id)
                        task = asyncio.create_task(self._run_step(plan, step))
                        running[task] = step
                    if not running:
                        # Nothing can start: what is left waits for steps that will not finish now.
                        for step_id in waiting:
                            self.book.set_step(plan, by_id[step_id], "blocked")
                            result.blocked.append(step_id)
                        waiting.clear()
                        break
                else:
                    self._block_dependants(plan, waiting, needs, by_id, result, running.values())
                    waiting.clear()  # the steps not started stay pending
                    if not running:
                        break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    step = running.pop(task)
                    decision = task.result()
                    if step.status == "done":
                        result.done.append(step.id)
                    elif step.status == "skipped":
                        result.skipped.append(step.id)
                    elif step.status == "failed":
                        result.failed.append(step.id)
                    if decision in ("rollback", "stop", "edit") and not halted:
                        halted = True
                        if decision == "rollback":
                            rollback_to = step.id
                        if waiting:
                            self.book.plans.log(plan.id, step.id, "info", f"{decision}: step(s) "
                                                f"{', '.join(waiting)} not started")
            if rollback_to is not None:
                result.rolled_back = await self.rollback(plan, rollback_to)
        except BaseException as exc:
            # Cancelled, or an error (a failed restore, a bug): no step task may outlive the run,
            # and the plan must not stay "running".
            self.cancel.set()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if isinstance(exc, asyncio.CancelledError):
                self.book.set_status(plan, "interrupted" if self.interrupting else "cancelled")
                why = "interrupted: the server shut down" if self.interrupting else "cancelled by the user"
                self.book.plans.log(plan.id, None, "warning", why)
            else:
                if not isinstance(exc, AgentlsError):
                    log.exception("plan %s: the run failed", plan.id)
                self.book.set_status(plan, self.book.overall(plan))
                self.book.plans.log(plan.id, None, "error", f"run ended: {plan.status}: {exc}")
            self.events.plan_changed(plan)
            raise
        self.book.set_status(plan, self.book.overall(plan))
        self.book.plans.log(plan.id, None, "info", f"run ended: {plan.status}")
        self.book.write_document(plan)
        self.events.plan_changed(plan)
        return result

    def _block_dependants(self, plan: Plan, waiting: list[str], needs: dict[str, set[str]],
                          by_id: dict[str, Step], result: RunResult, running: Iterable[Step]) -> None:
        # A failed step whose task still runs is waiting for the user's answer: a retry may yet finish it.
        undecided = {step.id for step in running}
        changed = True
        while changed:
            changed = False
            for step_id in list(waiting):
                bad = [n for n in needs[step_id] if by_id[n].status in ("failed", "blocked", "interrupted", "cancelled")
                       and n not in waiting and n not in undecided]
                if bad:
                    waiting.remove(step_id)
                    self.book.set_step(plan, by_id[step_id], "blocked")
                    self.book.plans.log(plan.id, step_id, "warning",
                                        f"step {step_id} not run: step {bad[0]} is {by_id[bad[0]].status}")
                    result.blocked.append(step_id)
                    changed = True
        if result.blocked:
            self.events.plan_changed(plan)

    @staticmethod
    def _files(step: Step) -> set[str]:
        return {f for s, _ in step.walk() for f in s.files}

    def _can_run_beside(self, step: Step, running: list[Step]) -> bool:
        if not running:
            return True
        mine = self._files(step)
        if not mine or step.is_group:
            return False
        for other in running:
            theirs = self._files(other)
            if not theirs or other.is_group or mine & theirs:
                return False
        return True

    # -- one step ---------------------------------------------------------------------------------
    async def _run_step(self, plan: Plan, step: Step) -> Decision | None:
        while True:
            execution = await self._attempt(plan, step)
            if execution.status != "failed":
                return None
            decision = await self._decide(plan, step, execution.error, execution.session_id)
            self.book.plans.log(plan.id, step.id, "info", f"after the failure: {decision}")
            if decision == "retry":
                await self._undo_files(plan, step, execution)
                continue
            if decision == "skip":
                self.book.set_step(plan, step, "skipped")
                self.events.plan_changed(plan)
                return None
            return decision

    async def _decide(self, plan: Plan, step: Step, error: str, session_id: str | None) -> Decision:
        try:
            return as_decision(await self.ask(failure_question(plan, step, error, session_id)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("asking what to do after step %s failed", step.id)
            return "stop"

    async def _undo_files(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
        """Before a retry: the files the failed attempt changed go back to how they were before it."""
        checkpoints = await self._checkpoints()
        if not execution.files or not execution.checkpoint_before or checkpoints is None:
            return
        restored = await asyncio.to_thread(checkpoints.restore, execution.checkpoint_before, execution.files)
        self.book.plans.log(plan.id, step.id, "info", f"restored {', '.join(execution.files)} before the retry "
                            f"(safety checkpoint {restored.safety_checkpoint})")

    async def _attempt(self, plan: Plan, step: Step) -> ExecutionRow:
        role = "group" if step.is_group else step.role
        execution = self.book.plans.start_execution(plan.id, step.id, role, verify_command=step.verify)
        step.status = "running"
        self.events.step_started(plan, step)
        self.events.plan_changed(plan)
        try:
            if not step.is_group:
                await self._work(plan, step, execution)
            await self._verify(plan, step, execution)
            execution.status = "done"
        except StepFailed as exc:
            execution.status, execution.error = "failed", str(exc)
        except AgentlsError as exc:
            execution.status, execution.error = "failed", str(exc)
        except asyncio.CancelledError:
            if self.interrupting:
                execution.status, execution.error = "interrupted", "interrupted: the server shut down"
            else:
                execution.status, execution.error = "cancelled", "cancelled by the user"
            self._end(plan, step, execution)
            raise
        except Exception as exc:  # a bug: record it rather than leave the step "running"
            log.exception("plan %s step %s crashed", plan.id, step.id)
            execution.status, execution.error = "failed", f"internal error: {exc!r} (details in the log)"
        self._end(plan, step, execution)
        return execution

    def _end(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
        import time

        execution.ended = time.time()
        self.book.plans.save_execution(execution)
        self.book.set_step(plan, step, execution.status)
        level = "error" if execution.status == "failed" else "info"
        cost = f"${execution.cost_usd:.4f}"
        what = f"step {step.id} {execution.status}" + (f": {execution.error}" if execution.error else "")
        self.book.plans.log(plan.id, step.id, level, f"{what} ({cost}; files: {', '.join(execution.files) or 'none'})")
        self.events.step_finished(plan, step, execution)
        self.events.plan_changed(plan)

    async def _checkpoints(self) -> Checkpoints | None:
        return await self.runtime.checkpoints() if self.settings.checkpoints.enabled else None

    async def _checkpoint(self, paths: list[str] | None, step: Step, plan: Plan, summary: str) -> str | None:
        checkpoints = await self._checkpoints()
        if checkpoints is None:
            return None
        ordinal = plan.order().index(step.id) + 1
        taken = await asyncio.to_thread(checkpoints.checkpoint, paths, trigger="edit", session_id=plan.id,
                                        step=ordinal, summary=summary)
        return taken.id

    async def _work(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
        from agentls.workflows.run import run_task
        from agentls.workflows.task import TaskSpec

        self.events.step_message(plan, step, "checkpoint…")
        execution.checkpoint_before = await self._checkpoint(
            None, step, plan, f"before plan {plan.id} step {step.id}: {step.title}")
        self.book.plans.save_execution(execution)
        session_id = f"{plan.id}-{step.id}-{execution.attempt}"
        execution.session_id = session_id
        self.book.plans.save_execution(execution)
        written: list[str] = []  # what the session wrote mid-way (run_command commits pending edits first)

        def on_event(event: AgentEvent) -> None:
            if isinstance(event, FilesWritten):
                written.extend(path for path in event.paths if path not in written)
            self.events.step_event(plan, step, event)

        spec = TaskSpec(
            instruction=f"[plan {plan.id} step {step.id}] {step.title}", first_message=step_prompt(plan, step),
            kind=f"plan-{step.role}", files_in_play=tuple(step.files), buffers=self.applier.buffers(),
            session_id=session_id, role=step.role, commit_before_commands=self.applier.commit_before_commands)
        try:
            outcome = await run_task(self.runtime, spec, on_event)
        finally:
            execution.files = list(written)
        result = outcome.result
        usage = result.usage
        execution.input_tokens, execution.output_tokens = usage.input_tokens, usage.output_tokens
        execution.cache_write_tokens = usage.cache_creation_input_tokens
        execution.cache_read_tokens = usage.cache_read_input_tokens
        execution.cost_usd = result.cost_usd
        if result.summary:
            self.book.plans.log(plan.id, step.id, "info", f"agent: {result.summary}")
        if not result.ok:
            raise StepFailed(f"the agent session {result.status}: {result.error or 'no detail'}")
        for path, issues in outcome.issues.items():
            self.book.plans.log(plan.id, step.id, "warning", f"{path} still has syntax errors: {issues[0].message}")
        self.events.step_message(plan, step, "applying…")
        self.book.set_step(plan, step, "review")
        self.events.plan_changed(plan)
        written = await self.applier.apply(plan, step, outcome)
        execution.files = sorted(set(execution.files) | set(written))
        self.book.plans.save_execution(execution)
        if execution.files:
            execution.checkpoint_after = await self._checkpoint(
                execution.files, step, plan, f"after plan {plan.id} step {step.id}: {step.title}")

    async def _verify(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
        if not step.verify:
            return
        self.events.step_message(plan, step, f"verifying: {step.verify}")
        self.book.set_step(plan, step, "running")
        result: Verification = await verify(step.verify, self.root, self.settings.tools, cancel=self.cancel,
                                            audit=self.audit, session_id=execution.session_id or plan.id)
        execution.verify_status = result.status
        execution.verify_output = result.output[-20_000:]
        execution.coverage = result.coverage
        level = {"passed": "info", "failed": "error"}.get(result.status, "warning")
        tail = "\n".join(result.output.strip().splitlines()[-15:])
        self.book.plans.log(plan.id, step.id, level, f"verify `{step.verify}`: {result.status}\n{tail}")
        if result.status == "failed":
            code = f"exit code {result.exit_code}" if result.exit_code is not None else "did not finish"
            raise StepFailed(f"verification failed ({code}): {step.verify}")

    # -- rollback -----------------------------------------------------------------------------------
    async def rollback(self, plan: Plan, step_id: str) -> dict[str, Any]:
        return await rollback(self.book, plan, step_id, self._restore)

    async def _restore(self, checkpoint_id: str) -> Any:
        if self.restore is not None:
            return await self.restore(checkpoint_id)
        checkpoints = await self._checkpoints()
        if checkpoints is None:
            raise PlanError("checkpoints are off (checkpoints.enabled = false): nothing to roll back to")
        return await asyncio.to_thread(checkpoints.restore, checkpoint_id)
