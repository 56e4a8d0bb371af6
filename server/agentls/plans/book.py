"""Plans as models over the store: load, save, edit, and the plan as clients see it (wire form).

``PlanBook`` turns ``store.plans`` rows into ``models.Plan`` and back, keeps the plan's markdown
document in the data directory (``<data>/plans/<id>.md``), reads an edited document back, and
builds the JSON that ``agentls.plan.status``, ``agentls/planUpdated`` and ``agentls plan show
--json`` return. Both front ends use it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agentls.plans import render
from agentls.plans.models import FINISHED, Plan, PlanError, Step, parse_steps, same_work
from agentls.store.plans import ExecutionRow, PlanStore, StepRow

#: Step states that an edit of the plan may not touch.
LOCKED_STATES = frozenset({"running", "review"})


def _rows(steps: list[Step]) -> list[StepRow]:
    rows: list[StepRow] = []
    for position, (step, parent) in enumerate(Plan("", "", "", steps=steps).walk()):
        rows.append(StepRow(step.id, position, parent.id if parent else None, step.title, step.description,
                            list(step.files), list(step.depends_on), step.verify, step.role, step.status))
    return rows


def _tree(rows: list[StepRow]) -> list[Step]:
    by_id: dict[str, Step] = {}
    roots: list[Step] = []
    for row in rows:
        step = Step(row.id, row.title, row.description, list(row.files), list(row.depends_on), row.verify,
                    row.role, row.status)
        by_id[row.id] = step
        parent = by_id.get(row.parent) if row.parent else None
        (parent.substeps if parent else roots).append(step)
    return roots


def execution_wire(row: ExecutionRow) -> dict[str, Any]:
    return {
        "id": row.id, "attempt": row.attempt, "role": row.role, "sessionId": row.session_id, "status": row.status,
        "started": row.started, "ended": row.ended, "error": row.error,
        "tokens": {"input": row.input_tokens, "output": row.output_tokens, "cacheWrite": row.cache_write_tokens,
                   "cacheRead": row.cache_read_tokens},
        "costUsd": round(row.cost_usd, 6), "files": list(row.files),
        "checkpointBefore": row.checkpoint_before, "checkpointAfter": row.checkpoint_after,
        "verify": {"command": row.verify_command, "status": row.verify_status, "output": row.verify_output},
        "coverage": row.coverage, "rolledBack": row.rolled_back,
    }


class PlanBook:
    def __init__(self, plans: PlanStore, documents: Path) -> None:
        self.plans = plans
        self.documents = documents

    # -- load / save ----------------------------------------------------------------------------
    def resolve(self, plan_id: str, workspace: str | None = None) -> str:
        found = self.plans.find(plan_id, workspace)
        if not found:
            raise PlanError(f"no plan {plan_id!r}" + (f" in {workspace}" if workspace else ""))
        if len(found) > 1 and found[0] != plan_id:
            raise PlanError(f"plan id {plan_id!r} is ambiguous ({', '.join(found[:5])})")
        return found[0]

    def load(self, plan_id: str) -> Plan:
        row = self.plans.get(plan_id)
        if row is None:
            raise PlanError(f"no plan {plan_id!r}")
        return Plan(row.id, row.workspace, row.instruction, row.summary, _tree(self.plans.steps(plan_id)),
                    row.status, row.auto_apply, row.created, row.updated, row.session_id)

    def create(self, workspace: str, instruction: str, summary: str, steps: list[Step], *,
               session_id: str | None = None, auto_apply: bool = False) -> Plan:
        plan_id = self.plans.create(workspace, instruction, summary, _rows(steps), session_id=session_id,
                                    auto_apply=auto_apply)
        self.plans.log(plan_id, None, "info", f"plan drafted: {len(steps)} step(s)")
        plan = self.load(plan_id)
        self.write_document(plan)
        return plan

    def save_steps(self, plan: Plan) -> None:
        self.plans.replace_steps(plan.id, _rows(plan.steps))

    def document_path(self, plan_id: str) -> Path:
        return self.documents / f"{plan_id}.md"

    def render(self, plan: Plan) -> str:
        latest = self.latest_executions(plan.id)
        return render.render(plan.id, plan.instruction, plan.summary, plan.steps, status=plan.status,
                             executions={k: execution_wire(v) for k, v in latest.items()})

    def write_document(self, plan: Plan) -> Path:
        """(Re)write the plan's document and remember what was written (to notice the user's edits)."""
        text = self.render(plan)
        path = self.document_path(plan.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        self.plans.update(plan.id, document=text)
        return path

    # -- edits ------------------------------------------------------------------------------------
    def edit(self, plan: Plan, new_steps: list[Step]) -> list[str]:
        """Replace the plan's steps with an edited version; returns the ids whose work changed.

        A finished step whose work is unchanged stays finished; a changed or new step is pending;
        running steps cannot be edited."""
        old = {step.id: step for step in plan.flat()}
        busy = [s.id for s in old.values() if s.status in LOCKED_STATES]
        if busy:
            raise PlanError(f"step(s) {', '.join(busy)} are running; edit the plan when they have finished")
        changed = []
        for step in Plan("", "", "", steps=new_steps).flat():
            before = old.get(step.id)
            if before is not None and same_work(before, step):
                step.status = before.status
            else:
                step.status = "pending"
                changed.append(step.id)
        plan.steps = new_steps
        self.save_steps(plan)
        removed = sorted(set(old) - {s.id for s in plan.flat()})
        self.plans.log(plan.id, None, "info", "plan edited" + (f": changed {', '.join(changed)}" if changed else "")
                       + (f"; removed {', '.join(removed)}" if removed else ""))
        return changed

    def edit_data(self, plan: Plan, raw: Any) -> list[str]:
        return self.edit(plan, parse_steps(raw))

    def edited_document(self, plan: Plan, text: str | None = None) -> str | None:
        """The document's text if the user changed it since it was written (None: unchanged)."""
        if text is None:
            try:
                text = self.document_path(plan.id).read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
        row = self.plans.get(plan.id)
        if row is None or text == row.document:
            return None
        return text

    def sync_document(self, plan: Plan, text: str | None = None) -> list[str] | None:
        """Read the user's edits of the document (``text``: an unsaved editor buffer) into the plan;
        None when there were none."""
        edited = self.edited_document(plan, text)
        if edited is None:
            return None
        changed = self.edit(plan, render.parse(edited))
        self.write_document(plan)
        return changed

    # -- state ------------------------------------------------------------------------------------
    def set_status(self, plan: Plan, status: str) -> None:
        plan.status = status
        plan.updated = time.time()
        self.plans.update(plan.id, status=status)

    def set_step(self, plan: Plan, step: Step, status: str) -> None:
        step.status = status
        self.plans.set_step_status(plan.id, [step.id], status)

    def latest_executions(self, plan_id: str) -> dict[str, ExecutionRow]:
        latest: dict[str, ExecutionRow] = {}
        for row in self.plans.executions(plan_id):
            latest[row.step_id] = row
        return latest

    def overall(self, plan: Plan) -> str:
        """The plan's status from its steps' (when it is not running)."""
        states = {step.status for step in plan.flat()}
        if states <= FINISHED:
            return "done"
        if "interrupted" in states:
            return "interrupted"
        if states & {"failed", "blocked"}:
            return "failed"
        if "cancelled" in states:
            return "cancelled"
        return "draft"

    def wire(self, plan: Plan, *, logs: bool = False) -> dict[str, Any]:
        executions = self.plans.executions(plan.id)
        by_step: dict[str, list[ExecutionRow]] = {}
        for row in executions:
            by_step.setdefault(row.step_id, []).append(row)

        def step_wire(step: Step) -> dict[str, Any]:
            runs = by_step.get(step.id, [])
            return {
                "id": step.id, "title": step.title, "description": step.description, "files": list(step.files),
                "dependsOn": list(step.depends_on), "verify": step.verify, "role": step.role, "status": step.status,
                "execution": execution_wire(runs[-1]) if runs else None, "attempts": len(runs),
                "costUsd": round(sum(r.cost_usd for r in runs), 6),
                "substeps": [step_wire(sub) for sub in step.substeps],
            }

        planning_tokens, planning_cost = self.plans.session_cost(plan.session_id)
        data: dict[str, Any] = {
            "id": plan.id, "workspace": plan.workspace, "instruction": plan.instruction, "summary": plan.summary,
            "status": plan.status, "autoApply": plan.auto_apply, "created": plan.created, "updated": plan.updated,
            "sessionId": plan.session_id, "document": str(self.document_path(plan.id)),
            "steps": [step_wire(step) for step in plan.steps], "order": plan.order(),
            "planningCostUsd": round(planning_cost, 6),
            "costUsd": round(planning_cost + sum(r.cost_usd for r in executions), 6),
            "tokens": planning_tokens + sum(r.input_tokens + r.output_tokens + r.cache_write_tokens
                                            + r.cache_read_tokens for r in executions),
        }
        if logs:
            data["logs"] = [{"time": log.time, "stepId": log.step_id, "level": log.level, "message": log.message}
                            for log in self.plans.logs(plan.id)]
        return data
