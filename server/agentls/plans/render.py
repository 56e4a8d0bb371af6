"""The plan as a markdown document the user reads and edits, and the edited document read back.

Each step is a heading (``## 1. Title``; sub-steps ``### 2.1 Title``, one level deeper), then its
fields as list items, then its description::

    ## 2. Add the --verbose flag
    - files: `cli.py`, `tests/test_cli.py`
    - depends on: 1
    - verify: `pytest -q tests/test_cli.py`
    - role: coder
    - status: done · 1,234 tokens · $0.0123

    Parse the flag in build_parser() and pass it to run().

``status`` lines are shown, never read back. Anything before the first step heading (the title,
the summary) is not part of the steps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agentls.plans.models import PlanError, Step, parse_steps

_HEADING = re.compile(r"^(#{2,4})\s+([A-Za-z0-9][\w.-]*?)\.?\s+(.+?)\s*$")
_FIELD = re.compile(r"^[-*]\s+(files|depends on|depends_on|verify|role|status)\s*:\s*(.*?)\s*$", re.IGNORECASE)
_NONE = ("", "none", "-", "—", "null", "n/a")


def _cost(execution: Mapping[str, Any] | None) -> str:
    if not execution:
        return ""
    tokens = execution.get("tokens", {})
    total = sum(int(v) for v in tokens.values()) if isinstance(tokens, Mapping) else 0
    parts = [f"{total:,} tokens", f"${float(execution.get('costUsd', 0.0)):.4f}"]
    verify = execution.get("verify") or {}
    if verify.get("status"):
        parts.append(f"verify {verify['status']}")
    if execution.get("coverage") is not None:
        parts.append(f"coverage {execution['coverage']:g}%")
    if execution.get("error"):
        parts.append(str(execution["error"]).splitlines()[0][:160])
    return " · " + " · ".join(parts)


def render(plan_id: str, instruction: str, summary: str, steps: list[Step], *,
           executions: Mapping[str, Mapping[str, Any]] | None = None, status: str = "draft") -> str:
    """The document; ``executions`` (step id -> latest execution, wire form) adds cost and outcome."""
    first = instruction.strip().splitlines()[0] if instruction.strip() else "plan"
    lines = [f"# Plan {plan_id}: {first}", "",
             f"<!-- agentls plan {plan_id} ({status}). Edit the steps, save, then run the plan. A step is a heading "
             "'## <id>. <title>' (sub-steps one level deeper), its '- files:', '- depends on:', '- verify:' and "
             "'- role:' lines, then its description. Status lines are not read back. -->", ""]
    if summary:
        lines += [f"> {line}" if line else ">" for line in summary.strip().splitlines()] + [""]
    rest = instruction.strip().splitlines()[1:]
    if rest:
        lines += ["Task:", "", *rest, ""]

    def emit(step: Step, level: int) -> None:
        separator = "." if level == 2 else ""
        lines.append(f"{'#' * level} {step.id}{separator} {step.title}")
        files = ", ".join(f"`{f}`" for f in step.files) or "none"
        lines.append(f"- files: {files}")
        lines.append(f"- depends on: {', '.join(step.depends_on) or 'none'}")
        lines.append(f"- verify: {f'`{step.verify}`' if step.verify else 'none'}")
        lines.append(f"- role: {step.role}")
        lines.append(f"- status: {step.status}{_cost((executions or {}).get(step.id))}")
        lines.append("")
        if step.description:
            lines.extend([step.description, ""])
        for sub in step.substeps:
            emit(sub, level + 1)

    for step in steps:
        emit(step, 2)
    return "\n".join(lines).rstrip() + "\n"


def _split(value: str) -> list[str]:
    if value.strip().lower() in _NONE:
        return []
    return [part.strip().strip("`").strip() for part in value.split(",") if part.strip().strip("`").strip()]


def parse(document: str, *, keep_status: Mapping[str, str] | None = None) -> list[Step]:
    """The steps of an edited document (validated like any plan); ``PlanError`` names the line."""
    roots: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = []
    current: dict[str, Any] | None = None
    in_fields = False
    in_comment = False
    for number, line in enumerate(document.splitlines(), start=1):
        if in_comment:
            in_comment = "-->" not in line
            continue
        if line.lstrip().startswith("<!--"):
            in_comment = "-->" not in line
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            current = {"id": heading.group(2), "title": heading.group(3), "description": [], "substeps": [],
                       "line": number}
            while stack and stack[-1][0] >= level:
                stack.pop()
            if not stack:
                if level != 2:
                    raise PlanError(f"line {number}: a top-level step is a '## ' heading (found {'#' * level})")
                roots.append(current)
            else:
                if level != stack[-1][0] + 1:
                    raise PlanError(f"line {number}: a sub-step is one heading level below its step")
                stack[-1][1]["substeps"].append(current)
            stack.append((level, current))
            in_fields = True
            continue
        if current is None:
            continue
        match = _FIELD.match(line.strip()) if in_fields else None
        if match:
            key, value = match.group(1).lower().replace("_", " "), match.group(2)
            if key == "files":
                current["files"] = _split(value)
            elif key == "depends on":
                current["depends_on"] = _split(value)
            elif key == "verify":
                command = value.strip()
                if command.startswith("`") and command.endswith("`") and len(command) > 1:
                    command = command[1:-1]
                current["verify"] = None if command.strip().lower() in _NONE else command.strip()
            elif key == "role":
                current["role"] = value.strip().lower()
            continue
        if line.strip() or current["description"]:
            in_fields = in_fields and not line.strip()
            current["description"].append(line)

    def finish(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            item["description"] = "\n".join(item["description"]).strip()
            item["substeps"] = finish(item["substeps"])
            item.pop("line", None)
        return items

    if not roots:
        raise PlanError("the document has no steps: each step is a '## <id>. <title>' heading")
    return parse_steps(finish(roots), keep_status=keep_status)
