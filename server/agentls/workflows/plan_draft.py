"""Plan mode: the architect reads the project (read-only) and hands in a plan with ``submit_plan``.

The plan arrives as structured data through a dedicated tool rather than parsed from prose: its
input is validated (``models.parse_steps``) and a problem goes back to the model as a tool error
it can fix. Every write the model attempts is refused by the tools and reported to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentls.agent.events import AgentEvent
from agentls.agent.results import SessionResult
from agentls.agent.tools.base import ToolContext, ToolResult
from agentls.errors import AgentlsError
from agentls.plans.models import PlanError, Step, parse_steps
from agentls.plans.roles import load_role

if TYPE_CHECKING:
    from agentls.runtime import Runtime

SUBMIT_PLAN = "submit_plan"

_STEP_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "description": "A short unique id, e.g. \"1\", \"2\", \"2.1\"."},
    "title": {"type": "string", "description": "What the step does, in a few words (imperative)."},
    "description": {"type": "string", "description": "Enough detail to carry the step out: what, where, why."},
    "files": {"type": "array", "items": {"type": "string"},
              "description": "Workspace-relative files the step will create or modify."},
    "depends_on": {"type": "array", "items": {"type": "string"},
                   "description": "Ids of the steps that must be finished before this one."},
    "verify": {"type": ["string", "null"],
               "description": "One command that checks the step (e.g. \"pytest -q tests/test_x.py\"), or null."},
    "role": {"type": "string", "enum": ["coder", "tester"],
             "description": "\"tester\" for steps that write or update tests; \"coder\" otherwise."},
}


def _step_schema(depth: int) -> dict[str, Any]:
    properties = dict(_STEP_PROPERTIES)
    if depth > 0:
        properties["substeps"] = {"type": "array", "items": _step_schema(depth - 1),
                                  "description": "Optional sub-steps (the step is done when they all are)."}
    return {"type": "object", "properties": properties, "required": ["id", "title", "description", "files"]}


@dataclass
class PlanDraft:
    """What the architect submitted (the latest valid call wins)."""

    steps: list[Step] | None = None
    summary: str = ""
    attempts: int = 0


class SubmitPlanTool:
    """``submit_plan``: the architect's only way to hand in a plan."""

    name = SUBMIT_PLAN
    read_only = True  # changes nothing in the workspace

    def __init__(self, draft: PlanDraft) -> None:
        self.draft = draft

    def definition(self) -> dict[str, Any]:
        return {
            "name": SUBMIT_PLAN,
            "description": "Submit the plan for the user's review: ordered steps, each with the files it touches, "
                           "the steps it depends on and a command that verifies it. Call it once, with the whole "
                           "plan; if it reports a problem, fix the plan and call it again.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "summary": {"type": "string", "description": "The plan in one or two sentences."},
                    "steps": {"type": "array", "items": _step_schema(2), "minItems": 1},
                },
                "required": ["summary", "steps"],
            },
        }

    async def run(self, input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        self.draft.attempts += 1
        try:
            steps = parse_steps(input.get("steps"))
        except PlanError as exc:
            return ToolResult(f"The plan was not accepted: {exc}. Fix it and call submit_plan again.",
                              is_error=True)
        summary = input.get("summary")
        self.draft.steps = steps
        self.draft.summary = summary.strip() if isinstance(summary, str) else ""
        ids = ", ".join(step.id for step in steps)
        return ToolResult(f"Plan recorded: {len(steps)} step(s) ({ids}). It goes to the user for review now. "
                          "Reply with a one or two sentence summary; do not call any more tools.")


@dataclass
class ArchitectOutcome:
    session_id: str
    result: SessionResult
    steps: list[Step]
    summary: str


def planning_message(instruction: str, files: Iterable[str]) -> str:
    message = f"Plan this change (do not make it; plan it):\n\n{instruction.strip()}"
    files = list(files)
    if files:
        message += "\n\nFiles the user pointed at: " + ", ".join(f"`{f}`" for f in files)
    return message + "\n\nInvestigate what you need, then call submit_plan."


async def draft_plan(
    runtime: Runtime,
    instruction: str,
    *,
    on_event: Callable[[AgentEvent], None] | None = None,
    files_in_play: Iterable[str] = (),
    buffers: Mapping[str, str] | None = None,
    session_id: str | None = None,
) -> ArchitectOutcome:
    """Run the architect read-only (in the agent host, when the runtime has one); raises ``AgentlsError``
    when no valid plan came out of it."""
    files, texts = list(files_in_play), dict(buffers or {})
    if runtime.host is not None:
        outcome: ArchitectOutcome = await runtime.host.call("draft_plan", instruction, files, texts, session_id,
                                                            on_event=on_event)
        return outcome
    return await draft_in_process(runtime, instruction, on_event, files, texts, session_id)


async def draft_in_process(runtime: Runtime, instruction: str, on_event: Callable[[AgentEvent], None] | None,
                           files: list[str], buffers: dict[str, str], session_id: str | None) -> ArchitectOutcome:
    from agentls.workflows.task import TaskSpec
    from agentls.workflows.task_session import run_session

    draft = PlanDraft()
    spec = TaskSpec(instruction=instruction, first_message=planning_message(instruction, files), kind="plan",
                    files_in_play=tuple(files), buffers=buffers, session_id=session_id, role="architect",
                    read_only=True)
    tools = load_role("architect").registry(runtime.settings.tools, [SubmitPlanTool(draft)])
    outcome = await run_session(runtime, spec, on_event, tools=tools)
    result = outcome.result
    if outcome.overlay.has_changes():  # cannot happen: the tools refuse; never let it through silently
        raise AgentlsError("plan mode changed files; the plan was discarded")
    if draft.steps is None:
        if not result.ok:
            raise AgentlsError(f"planning failed: {result.error or result.status}")
        said = f": {result.summary[:200]}" if result.summary else ""
        raise AgentlsError(f"the model finished without submitting a plan{said}")
    return ArchitectOutcome(outcome.session_id, result, draft.steps, draft.summary or result.summary)
