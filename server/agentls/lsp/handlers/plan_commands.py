"""``agentls.plan*``: task plans from the editor. Parse, delegate to ``agentls.plans``, answer.

``agentls.plan`` runs the architect (read-only, with ``$/progress``), saves the plan, opens its
markdown document (``window/showDocument``) and returns the plan. ``agentls.plan.execute`` returns
at once; the steps run in the background with ``$/progress`` per plan and per step, and every
change of state is sent as ``agentls/planUpdated`` (the same JSON as ``agentls.plan.status``).
Step edits are proposed for review in the editor (``agentls/proposal``) and the step waits until
they are resolved and the accepted files saved, unless the plan is auto-apply: then they are
written to disk after the step's checkpoint, as the CLI does (editors reload what they show; a file
with unsaved editor changes is never overwritten). A failed step asks the user
(``window/showMessageRequest``: Retry, Skip, Edit plan, Roll back, Stop), or any client answers
with ``agentls.plan.decide``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from agentls.agent.events import shorten
from agentls.errors import AgentlsError
from agentls.lsp.server import AgentLanguageServer

if TYPE_CHECKING:
    from agentls.lsp.handlers.commands import Handler
    from agentls.plans.book import PlanBook
    from agentls.plans.models import Plan
    from agentls.questions import Question
    from agentls.workflows.plan_run import PlanExecutor

log = logging.getLogger(__name__)

PLAN_UPDATED = "agentls/planUpdated"
_RUNNERS: weakref.WeakKeyDictionary[AgentLanguageServer, PlanRunner] = weakref.WeakKeyDictionary()


def runner(ls: AgentLanguageServer) -> PlanRunner:
    found = _RUNNERS.get(ls)
    if found is None:
        found = _RUNNERS[ls] = PlanRunner(ls)
    return found


async def shutdown_plans(ls: AgentLanguageServer) -> None:
    """On LSP shutdown: stop the running plans and wait, so their running steps are recorded as
    interrupted (never re-run unless named), as after a crash, not as cancelled by the user."""
    plans = _RUNNERS.get(ls)
    if plans is None:
        return
    for executor in plans.executors.values():
        executor.interrupting = True
    tasks = [task for task in plans.tasks.values() if not task.done()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class PlanRunner:
    """The server's plans: the book and the running executions (their questions: ``ls.questions``)."""

    def __init__(self, ls: AgentLanguageServer) -> None:
        self.ls = ls
        self._book: PlanBook | None = None
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.executors: dict[str, PlanExecutor] = {}

    def book(self) -> PlanBook:
        if self._book is None:
            from agentls.paths import data_dir
            from agentls.plans.book import PlanBook
            from agentls.store.plans import PlanStore

            self._book = PlanBook(PlanStore(self.ls.runtime.store()), data_dir() / "plans")
        book = self._book
        for plan_id, step_id in book.plans.reap_interrupted(str(self.ls.agent.root)):
            log.warning("plan %s: step %s was interrupted (its process ended)", plan_id, step_id)
        return book

    def load(self, plan_id: str) -> Plan:
        book = self.book()
        return book.load(book.resolve(plan_id, str(self.ls.agent.root)))

    def wire(self, plan: Plan, logs: bool = False) -> dict[str, Any]:
        data = self.book().wire(plan, logs=logs)
        data["running"] = plan.id in self.tasks
        question = self.ls.questions.find(lambda q: q.topic == "plan_step" and q.subject.get("planId") == plan.id)
        data["question"] = None if question is None else {
            "stepId": question.subject["stepId"], "error": question.detail, "questionId": question.id,
            "actions": list(question.option_ids)}
        return data

    def updated(self, plan: Plan) -> None:
        try:
            self.ls.protocol.notify(PLAN_UPDATED, self.wire(plan))
        except Exception:
            log.debug("could not send %s", PLAN_UPDATED, exc_info=True)

    async def show_document(self, plan: Plan) -> None:
        if not self.ls.client_features.show_document:
            return
        uri = self.book().document_path(plan.id).as_uri()
        try:
            await asyncio.wait_for(self.ls.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True)), 10)
        except Exception:
            log.info("the client did not show %s", uri, exc_info=True)

    def edited_buffer(self, plan: Plan) -> str | None:
        """The plan document's text in the editor when it is open there (possibly unsaved)."""
        doc = self.ls.state.documents.get(self.book().document_path(plan.id).as_uri())
        return doc.text if doc is not None else None


# -- commands ---------------------------------------------------------------------------------------


async def plan_command(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    from agentls.lsp.params import PlanParams, parse
    from agentls.lsp.progress import SessionProgress
    from agentls.workflows.plan_draft import draft_plan

    params = parse(PlanParams, "agentls.plan", raw)
    plans = runner(ls)
    files = [ls.agent.relative(uri) for uri in params.uris]
    progress = SessionProgress(ls, f"agentls plan: {shorten(params.instruction.strip().splitlines()[0], 60)}")
    progress.task = asyncio.current_task()
    await progress.begin("planning (read-only)…")
    try:
        drafted = await draft_plan(ls.runtime, params.instruction, on_event=progress.event, files_in_play=files,
                                   buffers={rel: snap.text for rel, snap in ls.agent.snapshots().items()})
    except BaseException as exc:
        progress.end("cancelled" if isinstance(exc, asyncio.CancelledError) else f"failed: {exc}")
        raise
    book = plans.book()
    plan = book.create(str(ls.agent.root), params.instruction, drafted.summary, drafted.steps,
                       session_id=drafted.session_id, auto_apply=params.auto_apply)
    progress.end(f"{len(plan.flat())} step(s) · ${drafted.result.cost_usd:.4f}")
    plans.updated(plan)
    if params.show:
        await plans.show_document(plan)
    return plans.wire(plan)


async def update(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    from agentls.lsp.params import PlanUpdateParams, parse

    params = parse(PlanUpdateParams, "agentls.plan.update", raw)
    plans = runner(ls)
    plan = plans.load(params.plan_id)
    if plan.id in plans.tasks:
        raise AgentlsError(f"plan {plan.id} is running; edit it when it has stopped")
    book = plans.book()
    if params.steps is not None:
        book.edit_data(plan, params.steps)
    elif params.markdown is not None:
        book.sync_document(plan, params.markdown)
    else:
        book.sync_document(plan, plans.edited_buffer(plan))
    if params.auto_apply is not None:
        plan.auto_apply = params.auto_apply
        book.plans.update(plan.id, auto_apply=params.auto_apply)
    book.write_document(plan)
    plans.updated(plan)
    return plans.wire(plan)


async def execute(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    from agentls.lsp.params import PlanExecuteParams, parse
    from agentls.workflows.plan_steps import select_steps

    params = parse(PlanExecuteParams, "agentls.plan.execute", raw)
    plans = runner(ls)
    plan = plans.load(params.plan_id)
    if plan.id in plans.tasks:
        raise AgentlsError(f"plan {plan.id} is already running")
    book = plans.book()
    book.sync_document(plan, plans.edited_buffer(plan))
    if params.auto_apply is not None and params.auto_apply != plan.auto_apply:
        plan.auto_apply = params.auto_apply
        book.plans.update(plan.id, auto_apply=params.auto_apply)
    selected = select_steps(plan, params.steps)  # errors go back to the request
    if not selected:
        raise AgentlsError(f"plan {plan.id} has no step left to run")
    task = asyncio.get_running_loop().create_task(_run(ls, plan, params.steps, params.max_parallel,
                                                       params.on_failure))
    plans.tasks[plan.id] = task
    task.add_done_callback(lambda _: plans.tasks.pop(plan.id, None))
    return {"planId": plan.id, "status": "running", "steps": selected}


async def _run(ls: AgentLanguageServer, plan: Plan, steps: list[str] | None, max_parallel: int,
               on_failure: str) -> None:
    from agentls.lsp.plan_appliers import AutoApplier, ReviewApplier
    from agentls.lsp.plan_progress import PlanProgress
    from agentls.lsp.progress import SessionProgress
    from agentls.workflows.plan_run import PlanExecutor
    from agentls.workflows.plan_steps import Applier

    plans = runner(ls)
    progress = SessionProgress(ls, f"agentls plan {plan.id}: {shorten(plan.instruction.strip().splitlines()[0], 50)}")
    progress.task = asyncio.current_task()
    await progress.begin("starting…")
    events = PlanProgress(ls, plans, progress)
    applier: Applier = AutoApplier(ls) if plan.auto_apply else ReviewApplier(ls)

    async def ask(question: Question) -> str:
        """After a failed step: a dialog, or (``decide``) only ``agentls.plan.decide``, or (``stop``) nobody."""
        if on_failure == "stop":
            return question.default
        try:  # the plan's state shows the open question
            answer = await ls.questions.ask(question, dialog=on_failure == "ask", opened=lambda: plans.updated(plan))
        finally:
            plans.updated(plan)
        if answer == "edit":
            await plans.show_document(plan)
        return answer

    async def restore(checkpoint_id: str) -> Any:
        from agentls.lsp.handlers.checkpoint_commands import restore as restore_checkpoint

        return await restore_checkpoint(ls, {"id": checkpoint_id})

    executor = PlanExecutor(ls.runtime, book=plans.book(), applier=applier, events=events.events, ask=ask,
                            restore=restore, max_parallel=max_parallel)
    plans.executors[plan.id] = executor
    try:
        result = await executor.run(plan, steps)
    except asyncio.CancelledError:
        plans.tasks.pop(plan.id, None)
        plans.updated(plan)
        events.close()
        progress.end("interrupted" if executor.interrupting else "cancelled")
        raise
    except AgentlsError as exc:
        events.close()
        progress.end(f"failed: {exc}")
        ls.notify_user(str(exc))
        return
    except Exception as exc:
        log.exception("plan %s crashed", plan.id)
        events.close()
        progress.end("failed")
        ls.notify_user(f"the plan failed: {exc} (details in the log)")
        return
    finally:
        if plans.executors.get(plan.id) is executor:
            plans.executors.pop(plan.id, None)
        if plans.tasks.get(plan.id) is asyncio.current_task():
            plans.tasks.pop(plan.id, None)
            plans.updated(plan)  # the last word: not running any more
    data = plans.book().wire(plan)
    summary = f"{plan.status} · ${data['costUsd']:.4f}"
    if result.failed:
        summary += f" · failed: {', '.join(result.failed)}"
    if result.blocked:
        summary += f" · blocked: {', '.join(result.blocked)}"
    progress.end(summary)
    if plan.status != "done":
        ls.notify_user(f"plan {plan.id}: {summary}", types.MessageType.Warning)


async def decide(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, bool]:
    from agentls.lsp.params import PlanDecideParams, parse

    params = parse(PlanDecideParams, "agentls.plan.decide", raw)
    question = ls.questions.find(lambda q: q.topic == "plan_step" and q.subject.get("planId") == params.plan_id
                                 and q.subject.get("stepId") == params.step_id)
    return {"accepted": question is not None and ls.questions.answer(question.id, params.action)}


async def rollback(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    from agentls.lsp.handlers.checkpoint_commands import restore as restore_checkpoint
    from agentls.lsp.params import PlanRollbackParams, parse
    from agentls.workflows.plan_steps import rollback as rollback_plan

    params = parse(PlanRollbackParams, "agentls.plan.rollback", raw)
    plans = runner(ls)
    plan = plans.load(params.plan_id)
    if plan.id in plans.tasks:
        raise AgentlsError(f"plan {plan.id} is running; cancel it (agentls.plan.cancel) before rolling back")

    async def restore(checkpoint_id: str) -> Any:
        return await restore_checkpoint(ls, {"id": checkpoint_id})

    done = await rollback_plan(plans.book(), plan, params.to_step, restore)
    plans.updated(plan)
    restored: dict[str, Any] = done["restore"]
    return {"planId": plan.id, "checkpoint": done["checkpoint"], "steps": done["steps"], **restored}


async def list_plans(ls: AgentLanguageServer, raw: dict[str, Any]) -> list[dict[str, Any]]:
    from agentls.lsp.params import PlanListParams, parse

    params = parse(PlanListParams, "agentls.plan.list", raw)
    plans = runner(ls)
    book = plans.book()
    rows = []
    for row in book.plans.list_plans(str(ls.agent.root), params.limit):
        plan = book.load(row.id)
        data = book.wire(plan)
        flat = plan.flat()
        rows.append({"id": plan.id, "instruction": plan.instruction, "summary": plan.summary, "status": plan.status,
                     "created": plan.created, "updated": plan.updated, "steps": len(flat),
                     "done": sum(1 for s in flat if s.status == "done"), "costUsd": data["costUsd"],
                     "running": plan.id in plans.tasks, "document": data["document"]})
    return rows


async def status(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    from agentls.lsp.params import PlanIdParams, parse

    params = parse(PlanIdParams, "agentls.plan.status", raw)
    plans = runner(ls)
    return plans.wire(plans.load(params.plan_id), logs=params.logs)


async def cancel(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, bool]:
    from agentls.lsp.params import PlanIdParams, parse

    params = parse(PlanIdParams, "agentls.plan.cancel", raw)
    plans = runner(ls)
    task = plans.tasks.get(plans.load(params.plan_id).id)
    if task is None or task.done():
        return {"cancelled": False}
    task.cancel()
    return {"cancelled": True}


HANDLERS: dict[str, Handler] = {
    "agentls.plan": plan_command,
    "agentls.plan.update": update,
    "agentls.plan.execute": execute,
    "agentls.plan.rollback": rollback,
    "agentls.plan.list": list_plans,
    "agentls.plan.status": status,
    "agentls.plan.cancel": cancel,
    "agentls.plan.decide": decide,
}
