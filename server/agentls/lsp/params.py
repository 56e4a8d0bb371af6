"""Parameters of the ``agentls.*`` commands, validated at the edge (camelCase on the wire)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from agentls.errors import InvalidRequest


class _Params(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class Position(_Params):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(_Params):
    start: Position
    end: Position


class EditParams(_Params):
    uri: str = Field(min_length=1)
    range: Range
    instruction: str = ""
    version: int | None = None


class TaskParams(_Params):
    instruction: str = Field(min_length=1)
    uris: list[str] = Field(default_factory=list)


class ReviewParams(_Params):
    proposal_id: str = Field(min_length=1)
    hunk_ids: list[str] | None = None
    #: Accept conflict hunks too: the agent's text over the user's lines.
    force: bool = False


class ProposalsParams(_Params):
    uri: str | None = None


class CancelParams(_Params):
    session_id: str = Field(min_length=1)


class UsageParams(_Params):
    limit: int = Field(20, ge=1, le=1000)
    all_workspaces: bool = False


class PlanParams(_Params):
    instruction: str = Field(min_length=1)
    uris: list[str] = Field(default_factory=list)
    auto_apply: bool = False
    #: Open the plan document in the editor (``window/showDocument``) once it is drafted.
    show: bool = True


class PlanIdParams(_Params):
    plan_id: str = Field(min_length=1)
    logs: bool = False


class PlanUpdateParams(_Params):
    plan_id: str = Field(min_length=1)
    steps: list[dict[str, Any]] | None = None
    markdown: str | None = None
    auto_apply: bool | None = None


class PlanExecuteParams(_Params):
    plan_id: str = Field(min_length=1)
    steps: list[str] | None = None
    auto_apply: bool | None = None
    max_parallel: int = Field(2, ge=1, le=8)
    #: "ask": window/showMessageRequest (or agentls.plan.decide); "decide": only agentls.plan.decide; "stop".
    on_failure: Literal["ask", "decide", "stop"] = "ask"


class PlanRollbackParams(_Params):
    plan_id: str = Field(min_length=1)
    to_step: str = Field(min_length=1)


class PlanListParams(_Params):
    limit: int = Field(20, ge=1, le=500)


class AnswerParams(_Params):
    question_id: str = Field(min_length=1)
    option_id: str = Field(min_length=1)


class PlanDecideParams(_Params):
    plan_id: str = Field(min_length=1)
    step_id: str = Field(min_length=1)
    action: Literal["retry", "skip", "edit", "rollback", "stop"]


P = TypeVar("P", bound=_Params)


def parse(model: type[P], command: str, raw: dict[str, Any]) -> P:
    """Validate ``raw`` or raise ``InvalidRequest`` naming the first bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "arguments"
        raise InvalidRequest(f"{command}: '{field}' {error['msg'].lower()}") from exc
