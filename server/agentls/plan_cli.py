"""``agentls plan``: task plans without an editor.

    agentls plan "TASK"            the architect drafts a plan (read-only); it is printed and saved
    agentls plan list              plans of the workspace
    agentls plan show ID           the plan with each step's status, cost and verification
    agentls plan run ID [--step S] run the pending steps (or the named ones); each step is checkpointed
    agentls plan rollback ID STEP  put the files back as they were before STEP

The plan document (``agentls plan show`` names it) can be edited before ``run``: the edits are read
back first. ``run`` writes each step's edits to disk after a checkpoint (running the plan is the
approval); a failed step asks what to do on a terminal (retry, skip, edit, roll back, stop) and
stops otherwise. Exit status: 0 done, 1 failed or blocked, 2 usage error, 130 cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from agentls.agent.events import AgentEvent
    from agentls.config import Settings
    from agentls.plans.book import PlanBook
    from agentls.plans.models import Plan, Step
    from agentls.runtime import Runtime
    from agentls.store.plans import ExecutionRow

ACTIONS = ("list", "show", "run", "rollback")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def add_plan_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser(
        "plan", help="plan a change, review the plan, run it step by step, roll back",
        description="agentls plan \"TASK\" | plan list | plan show ID | plan run ID [--step S] | "
                    "plan rollback ID STEP")
    plan.add_argument("words", nargs="*", metavar="ARG", help="\"TASK\", or list | show ID | run ID | rollback ID STEP")
    plan.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    plan.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    plan.add_argument("--step", action="append", dest="steps", metavar="STEP",
                      help="run: only this step (repeatable; names failed or interrupted steps to run them again)")
    plan.add_argument("--max-parallel", type=int, default=2, help="run: independent steps at once (default 2)")
    plan.add_argument("--model", help="model to use (overrides model.name)")


def _say(text: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(text + "\n")
    out.flush()


def _err(text: str) -> None:
    _say(text, sys.stderr)


class _Progress:
    """Plain progress lines on stderr: step states, tool calls, cost."""

    def __init__(self) -> None:
        from agentls.workflows.plan_steps import PlanEvents

        outer = self

        class Events(PlanEvents):
            def step_started(self, plan: Plan, step: Step) -> None:
                _err(f"step {step.id} running: {step.title}")

            def step_event(self, plan: Plan, step: Step, event: AgentEvent) -> None:
                outer.event(step, event)

            def step_message(self, plan: Plan, step: Step, message: str) -> None:
                _err(f"  [{step.id}] {message}")

            def step_finished(self, plan: Plan, step: Step, execution: ExecutionRow) -> None:
                verify = f", verify {execution.verify_status}" if execution.verify_status else ""
                error = f": {execution.error}" if execution.error else ""
                _err(f"step {step.id} {execution.status}{error} (${execution.cost_usd:.4f}{verify}; "
                     f"files: {', '.join(execution.files) or 'none'})")

        self.events = Events()

    @staticmethod
    def event(step: Step | None, event: AgentEvent) -> None:
        from agentls.agent.events import ToolCalled, ToolFinished

        prefix = f"  [{step.id}] " if step is not None else "  "
        if isinstance(event, ToolCalled):
            _err(f"{prefix}-> {event.summary}")
        elif isinstance(event, ToolFinished) and event.is_error:
            _err(f"{prefix}x {event.summary}")


def _table(plan: Plan, book: PlanBook) -> str:
    latest = book.latest_executions(plan.id)
    rows = []
    for step, parent in plan.walk():
        run = latest.get(step.id)
        cost = f"${run.cost_usd:.4f}" if run else ""
        verify = run.verify_status or "" if run else ""
        name = ("  " if parent else "") + f"{step.id}. {step.title}"
        rows.append(f"{name[:48]:48}  {step.status:11}  {cost:>9}  {verify}")
    return "\n".join(rows)


def run_plan(args: argparse.Namespace) -> int:
    from agentls import logs
    from agentls.config import load_settings

    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        _err(f"agentls: workspace {workspace} is not a directory")
        return EXIT_USAGE
    words: list[str] = list(args.words)
    if not words:
        _err("agentls plan: give a task (\"TASK\"), or list | show ID | run ID | rollback ID STEP")
        return EXIT_USAGE
    action = words[0] if words[0] in ACTIONS else "new"
    expected = {"list": 1, "show": 2, "run": 2, "rollback": 3}.get(action)
    if expected is not None and len(words) != expected:
        usage = {"list": "plan list", "show": "plan show ID", "run": "plan run ID", "rollback": "plan rollback ID STEP"}
        _err(f"agentls: usage: agentls {usage[action]}")
        return EXIT_USAGE
    editor = {"model": {"name": args.model}} if args.model else None
    loaded = load_settings(workspace, editor)
    logs.setup(loaded.settings.log_level, loaded.settings.log_file, stderr_level="error")
    for warning in loaded.warnings:
        _err(f"agentls: warning: {warning}")
    try:
        return asyncio.run(_main(action, words, args, workspace, loaded.settings))
    except KeyboardInterrupt:
        _err("agentls: cancelled")
        return EXIT_CANCELLED


async def _main(action: str, words: list[str], args: argparse.Namespace, workspace: Path, settings: Settings) -> int:
    from agentls.errors import AgentlsError
    from agentls.paths import data_dir
    from agentls.plans.book import PlanBook
    from agentls.runtime import Runtime
    from agentls.store.plans import PlanStore
    from agentls.terminal import TerminalQuestions

    runtime = Runtime(workspace, settings)
    runtime.frontend = "cli"
    runtime.asker = TerminalQuestions()  # after a failed step: retry, skip, edit, roll back or stop
    runtime.record_events()
    plans = PlanStore(runtime.store())
    book = PlanBook(plans, data_dir() / "plans")
    try:
        for plan_id, step_id in plans.reap_interrupted(str(workspace)):
            _err(f"agentls: plan {plan_id}: step {step_id} was interrupted (not re-run)")
        if action == "list":
            return _list(book, workspace, args.json)
        if action == "new":
            return await _new(" ".join(words), book, runtime, args.json)
        plan = book.load(book.resolve(words[1], str(workspace)))
        if action == "show":
            return _show(plan, book, args.json)
        if action == "run":
            return await _run(plan, book, runtime, args)
        return await _rollback(plan, words[2], book, runtime, args.json)
    except AgentlsError as exc:
        _err(f"agentls: {exc}")
        return EXIT_FAILED
    finally:
        await runtime.aclose()


def _list(book: PlanBook, workspace: Path, as_json: bool) -> int:
    import time

    rows = book.plans.list_plans(str(workspace))
    if as_json:
        _say(json.dumps([book.wire(book.load(row.id)) for row in rows], indent=2))
        return EXIT_OK
    if not rows:
        _say(f"no plans for {workspace}")
        return EXIT_OK
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.created))
        plan = book.load(row.id)
        cost = book.wire(plan)["costUsd"]
        instruction = row.instruction.splitlines()[0] if row.instruction else ""
        _say(f"{row.id}  {when}  {row.status:11}  {len(plan.flat()):>2} step(s)  ${cost:.4f}  {instruction[:60]}")
    return EXIT_OK


def _sync(plan: Plan, book: PlanBook) -> None:
    changed = book.sync_document(plan)
    if changed is not None:
        _err(f"agentls: read your edits of {book.document_path(plan.id)}"
             + (f" (changed steps: {', '.join(changed)})" if changed else ""))


def _show(plan: Plan, book: PlanBook, as_json: bool) -> int:
    _sync(plan, book)
    if as_json:
        _say(json.dumps(book.wire(plan, logs=True), indent=2))
        return EXIT_OK
    book.write_document(plan)
    _say(book.render(plan).rstrip())
    data = book.wire(plan)
    _err(f"plan {plan.id}: {plan.status}; ${data['costUsd']:.4f} ({data['tokens']:,} tokens) so far; "
         f"document: {book.document_path(plan.id)}")
    return EXIT_OK


async def _new(task: str, book: PlanBook, runtime: Runtime, as_json: bool) -> int:
    from agentls.workflows.plan_draft import draft_plan

    if not task.strip():
        _err("agentls plan: the task is empty")
        return EXIT_USAGE
    _err("planning (read-only)…")
    drafted = await draft_plan(runtime, task, on_event=lambda event: _Progress.event(None, event))
    plan = book.create(str(runtime.root), task, drafted.summary, drafted.steps, session_id=drafted.session_id)
    if as_json:
        _say(json.dumps(book.wire(plan), indent=2))
    else:
        _say(book.render(plan).rstrip())
    result = drafted.result
    _err(f"plan {plan.id}: {len(plan.flat())} step(s); planning cost ${result.cost_usd:.4f}. Review or edit "
         f"{book.document_path(plan.id)}, then: agentls plan run {plan.id}")
    return EXIT_OK


async def _run(plan: Plan, book: PlanBook, runtime: Runtime, args: argparse.Namespace) -> int:
    from agentls.workflows.plan_run import PlanExecutor
    from agentls.workflows.plan_steps import DiskApplier

    _sync(plan, book)
    progress = _Progress()

    executor = PlanExecutor(runtime, book=book, applier=DiskApplier(), events=progress.events,
                            max_parallel=args.max_parallel)  # a failed step: runtime.ask, on the terminal
    result = await executor.run(plan, args.steps)
    data = book.wire(plan)
    if args.json:
        _say(json.dumps(data, indent=2))
    else:
        _say(_table(plan, book))
    if result.rolled_back:
        _err(f"rolled back to before step {result.rolled_back['steps'][0] if result.rolled_back['steps'] else '?'}")
    _err(f"plan {plan.id}: {plan.status}; ${data['costUsd']:.4f} ({data['tokens']:,} tokens)")
    if result.failed or result.blocked:
        failed = result.failed[0] if result.failed else result.blocked[0]
        _err(f"to retry: agentls plan run {plan.id} --step {failed}; to undo: agentls plan rollback {plan.id} "
             f"{failed}; or edit {book.document_path(plan.id)} and run again")
    return EXIT_OK if plan.status == "done" else EXIT_FAILED


async def _rollback(plan: Plan, step_id: str, book: PlanBook, runtime: Runtime, as_json: bool) -> int:
    from agentls.workflows.plan_steps import rollback

    checkpoints = await runtime.checkpoints()

    async def restore(checkpoint_id: str) -> dict[str, Any]:
        result = await asyncio.to_thread(checkpoints.restore, checkpoint_id)
        return {"restored": result.restored, "deleted": result.deleted, "created": result.created,
                "safetyCheckpoint": result.safety_checkpoint}

    done = await rollback(book, plan, step_id, restore)
    if as_json:
        _say(json.dumps(done, indent=2))
        return EXIT_OK
    restored = done["restore"]
    for label, key in (("restored", "restored"), ("deleted", "deleted"), ("created", "created")):
        for path in restored[key]:
            _say(f"{label:9} {path}")
    _say(f"plan {plan.id}: back to before step {step_id}; steps {', '.join(done['steps'])} are pending. "
         f"Undo with: agentls checkpoints restore {restored['safetyCheckpoint']}")
    return EXIT_OK
