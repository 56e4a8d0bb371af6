"""Plans and steps as plain data: validation, the step tree, dependency order.

A plan is a tree of steps. A step with sub-steps is a *group*: it has no agent session of its own;
it is done when all its sub-steps are, and then its own ``verify`` command runs. Sub-steps inherit
their group's dependencies, and a step that depends on a group waits for all of the group.

Validation is what the architect's ``submit_plan`` tool, ``agentls.plan.update`` and the edited
markdown document all go through: unique ids, known dependencies, no cycles, a title per step,
workspace-relative file paths. Its errors are sentences the model (or the user) can act on.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentls.errors import AgentlsError

ROLES_FOR_STEPS = ("coder", "tester")
#: A step's state. ``blocked``: a step it depends on failed; ``interrupted``: its process ended mid-way.
STEP_STATES = ("pending", "running", "review", "done", "failed", "skipped", "blocked", "interrupted", "cancelled")
FINISHED = frozenset({"done", "skipped"})
MAX_STEPS = 60
MAX_DEPTH = 3


class PlanError(AgentlsError):
    """A plan is not valid (the message says what to fix), or cannot be carried out as asked."""


@dataclass
class Step:
    id: str
    title: str
    description: str = ""
    files: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    verify: str | None = None
    role: str = "coder"
    status: str = "pending"
    substeps: list[Step] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return bool(self.substeps)

    def walk(self, parent: Step | None = None) -> Iterator[tuple[Step, Step | None]]:
        yield self, parent
        for sub in self.substeps:
            yield from sub.walk(self)


@dataclass
class Plan:
    id: str
    workspace: str
    instruction: str
    summary: str = ""
    steps: list[Step] = field(default_factory=list)
    status: str = "draft"
    auto_apply: bool = False
    created: float = 0.0
    updated: float = 0.0
    session_id: str | None = None

    def walk(self) -> Iterator[tuple[Step, Step | None]]:
        """Every step with its parent (None at the top), in document order."""
        for step in self.steps:
            yield from step.walk()

    def flat(self) -> list[Step]:
        return [step for step, _ in self.walk()]

    def step(self, step_id: str) -> Step:
        for step, _ in self.walk():
            if step.id == step_id:
                return step
        known = ", ".join(s.id for s in self.flat())
        raise PlanError(f"plan {self.id} has no step {step_id!r} (its steps: {known})")

    def parents(self) -> dict[str, str | None]:
        return {step.id: parent.id if parent else None for step, parent in self.walk()}

    def requirements(self) -> dict[str, set[str]]:
        """For every step, the steps that must be finished before it starts (groups included)."""
        parents = self.parents()
        by_id = {step.id: step for step in self.flat()}
        needs: dict[str, set[str]] = {}
        for step in self.flat():
            deps = set(step.depends_on)
            parent = parents[step.id]
            while parent is not None:  # sub-steps inherit their groups' dependencies
                deps |= set(by_id[parent].depends_on)
                parent = parents[parent]
            deps |= {sub.id for sub in step.substeps}  # a group waits for its sub-steps
            needs[step.id] = deps
        return needs

    def order(self) -> list[str]:
        """Step ids in an order that respects every dependency (document order where free)."""
        return topological([s.id for s in self.flat()], self.requirements())

    def dependants(self, step_id: str) -> set[str]:
        """Every step that (transitively) waits for ``step_id``, groups containing it included."""
        needs = self.requirements()
        parents = self.parents()
        found: set[str] = set()
        frontier = {step_id}
        while frontier:
            current = frontier.pop()
            for other, deps in needs.items():
                if current in deps and other not in found and other != step_id:
                    found.add(other)
                    frontier.add(other)
            parent = parents.get(current)
            if parent is not None and parent not in found:
                found.add(parent)
                frontier.add(parent)
        return found


def topological(ids: Sequence[str], needs: Mapping[str, set[str]]) -> list[str]:
    """Kahn's algorithm, taking the earliest ready id in ``ids`` order; raises on a cycle."""
    done: list[str] = []
    placed: set[str] = set()
    remaining = list(ids)
    while remaining:
        ready = next((i for i in remaining if needs.get(i, set()) <= placed), None)
        if ready is None:
            cycle = ", ".join(remaining)
            raise PlanError(f"the steps' dependencies form a cycle among: {cycle}")
        remaining.remove(ready)
        placed.add(ready)
        done.append(ready)
    return done


# -- validation ---------------------------------------------------------------------------------


def _text(value: Any, what: str, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PlanError(f"{what} must be a string")
    text = str(value).strip()
    if required and not text:
        raise PlanError(f"{what} is required")
    return text


def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise PlanError(f"{what} must be a list of strings")
    return [str(v).strip() for v in value if str(v).strip()]


def clean_path(path: str, what: str) -> str:
    cleaned = posixpath.normpath(path.replace("\\", "/").strip().strip("`"))
    if cleaned.startswith("./"):
        cleaned = cleaned[2:]
    if cleaned in ("", ".") or cleaned.startswith("../") or cleaned == ".." or posixpath.isabs(cleaned):
        raise PlanError(f"{what}: {path!r} is not a path inside the workspace (give it relative to the root)")
    return cleaned


def parse_steps(raw: Any, *, keep_status: Mapping[str, str] | None = None) -> list[Step]:
    """Steps from JSON-like data (``submit_plan``'s input, ``agentls.plan.update``), validated.

    Each step: ``{id?, title, description?, files?, depends_on?|dependsOn?, verify?, role?,
    substeps?}``. Missing ids are numbered ("1", "2", "2.1"). ``keep_status`` carries the states of
    steps that keep their id across an edit."""
    if not isinstance(raw, list) or not raw:
        raise PlanError("a plan needs at least one step (steps: a non-empty list)")
    statuses = keep_status or {}
    seen: set[str] = set()
    count = 0

    def build(items: list[Any], prefix: str, depth: int) -> list[Step]:
        nonlocal count
        steps = []
        for number, item in enumerate(items, start=1):
            where = f"step {prefix}{number}"
            if not isinstance(item, Mapping):
                raise PlanError(f"{where} must be an object with at least a title")
            count += 1
            if count > MAX_STEPS:
                raise PlanError(f"a plan has at most {MAX_STEPS} steps; merge small steps")
            step_id = _text(item.get("id"), f"{where}: id") or f"{prefix}{number}"
            if step_id in seen:
                raise PlanError(f"two steps have the id {step_id!r}; every step needs its own id")
            seen.add(step_id)
            where = f"step {step_id}"
            depends = item.get("depends_on", item.get("dependsOn"))
            verify = _text(item.get("verify"), f"{where}: verify") or None
            role = _text(item.get("role"), f"{where}: role") or "coder"
            if role not in ROLES_FOR_STEPS:
                raise PlanError(f"{where}: role must be one of {', '.join(ROLES_FOR_STEPS)}, not {role!r}")
            subs = item.get("substeps") or []
            if not isinstance(subs, list):
                raise PlanError(f"{where}: substeps must be a list of steps")
            if subs and depth >= MAX_DEPTH:
                raise PlanError(f"{where}: steps nest at most {MAX_DEPTH} levels deep")
            step = Step(
                id=step_id,
                title=_text(item.get("title"), f"{where}: title", required=True),
                description=_text(item.get("description"), f"{where}: description"),
                files=list(dict.fromkeys(clean_path(p, f"{where}: files") for p in
                                         _str_list(item.get("files"), f"{where}: files"))),
                depends_on=list(dict.fromkeys(_str_list(depends, f"{where}: depends_on"))),
                verify=verify, role=role, status=statuses.get(step_id, "pending"),
            )
            step.substeps = build(subs, f"{step_id}.", depth + 1)
            steps.append(step)
        return steps

    steps = build(raw, "", 1)
    check_dependencies(steps)
    return steps


def check_dependencies(steps: Sequence[Step]) -> None:
    plan = Plan("", "", "", steps=list(steps))
    known = {s.id for s in plan.flat()}
    parents = plan.parents()
    for step in plan.flat():
        for dep in step.depends_on:
            if dep == step.id:
                raise PlanError(f"step {step.id} depends on itself")
            if dep not in known:
                raise PlanError(f"step {step.id} depends on {dep!r}, which is not a step id "
                                f"(the ids are: {', '.join(sorted(known))})")
            ancestor = parents[step.id]
            while ancestor is not None:
                if ancestor == dep:
                    raise PlanError(f"step {step.id} depends on its own group {dep}; a sub-step runs as part of it")
                ancestor = parents[ancestor]
    plan.order()  # raises on a cycle


def steps_to_data(steps: Iterable[Step]) -> list[dict[str, Any]]:
    """The editable part of steps, as ``parse_steps`` reads it back."""
    return [{"id": s.id, "title": s.title, "description": s.description, "files": list(s.files),
             "depends_on": list(s.depends_on), "verify": s.verify, "role": s.role,
             "substeps": steps_to_data(s.substeps)} for s in steps]


def same_work(a: Step, b: Step) -> bool:
    """True when an edit left what the step does unchanged (so a finished step stays finished)."""
    return (a.title, a.description, a.files, a.depends_on, a.verify, a.role) == \
        (b.title, b.description, b.files, b.depends_on, b.verify, b.role) and \
        [s.id for s in a.substeps] == [s.id for s in b.substeps]
