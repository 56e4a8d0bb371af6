"""The fake's own table of models: what each id accepts and how it answers.

Kept apart from agentls's model table on purpose: this is the stand-in for the API, written from the
platform docs (models overview, each model's "what's new" and migration guide, "Thinking",
"Effort"), so a mistake in agentls's table shows up as a 400 here instead of agreeing with itself.

Current (5.x) models think when `thinking` is omitted and return thinking blocks with an empty text
and a signature by default (`display: "omitted"`); they reject sampling parameters and prefill, and
most reject forced tool choice. Pre-5.x ids (Sonnet 4.6, Opus 4.5, Haiku 4.5, ...) keep the old
behaviour: no thinking unless asked, `display: "summarized"`, prefill accepted on 4.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALL_EFFORT = ("low", "medium", "high", "xhigh", "max")
NO_XHIGH = ("low", "medium", "high", "max")

ENABLED_UNSUPPORTED = ('"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" '
                       'and "output_config.effort" to control thinking behavior.')
DISABLED_ALWAYS_ON = ('"thinking.type.disabled" is not supported for this model. Use "thinking.type.adaptive" '
                      'and "output_config.effort" to control thinking behavior.')
DISABLED_USE_BETWEEN_TOOLS = ('"thinking.type.disabled" is not supported for this model. Use '
                              '"thinking.type.between_tools" for the lowest thinking setting, or '
                              '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.')
ADAPTIVE_UNSUPPORTED = "adaptive thinking is not supported on this model"
BETWEEN_TOOLS_UNSUPPORTED = '"thinking.type.between_tools" is not supported for this model.'


@dataclass(frozen=True)
class Profile:
    id: str
    display_name: str
    created: str
    context_window: int = 1_000_000
    max_output: int = 128_000
    #: thinking runs when the request has no `thinking` field
    thinks_by_default: bool = True
    #: accepted `thinking.type` values
    thinking_types: tuple[str, ...] = ("adaptive",)
    default_display: str = "omitted"
    effort: tuple[str, ...] = ALL_EFFORT
    #: highest effort at which thinking may be turned off ("disabled"/"between_tools")
    off_up_to: str = "high"
    rejects_sampling: bool = True
    rejects_forced_tool_choice: bool = True
    rejects_prefill: bool = True
    #: the prefix check on thinking blocks (preserved thinking)
    preserved_thinking: bool = True
    #: the prefix check runs for every account, not only new ones (Fable 5.2, Mythos 5.2)
    prefix_check_always: bool = False
    #: text written before a tool call comes back as a progress-update thinking block
    updates_in_thinking: bool = True
    disabled_error: str = DISABLED_ALWAYS_ON
    lifecycle: str = "active"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def current(self) -> bool:
        """A 5.x model (the rules of today), as opposed to a pre-5.x id kept for the old behaviour."""
        return self.rejects_prefill and self.rejects_sampling

    def model_info(self) -> dict[str, Any]:
        """`GET /v1/models/{id}`: the `ModelInfo` object."""
        levels = {level: {"supported": level in self.effort} for level in ALL_EFFORT}
        return {
            "type": "model", "id": self.id, "display_name": self.display_name,
            "created_at": self.created, "lifecycle": self.lifecycle, "deprecated_at": None, "retires_at": None,
            "max_input_tokens": self.context_window, "max_tokens": self.max_output,
            "capabilities": {
                "effort": {**levels, "supported": bool(self.effort)},
                "thinking": {"supported": True, "types": {
                    t: {"supported": t in self.thinking_types} for t in ("adaptive", "enabled", "disabled",
                                                                        "between_tools")}},
            },
        }


def _p(id: str, name: str, created: str, **kw: Any) -> Profile:
    return Profile(id, name, created, **kw)


_FABLE = {"disabled_error": DISABLED_ALWAYS_ON}
_FABLE_5_2 = {**_FABLE, "prefix_check_always": True}
_OLD = {"thinks_by_default": False, "default_display": "summarized", "rejects_sampling": False,
        "rejects_forced_tool_choice": False, "preserved_thinking": False, "updates_in_thinking": False}

PROFILES: dict[str, Profile] = {p.id: p for p in (
    _p("claude-fable-5-2", "Claude Fable 5.2", "2026-11-09T00:00:00Z", **_FABLE_5_2),
    _p("claude-mythos-5-2", "Claude Mythos 5.2", "2026-11-09T00:00:00Z", **_FABLE_5_2),
    _p("claude-fable-5-1", "Claude Fable 5.1", "2026-09-01T00:00:00Z", **_FABLE),
    _p("claude-mythos-5-1", "Claude Mythos 5.1", "2026-09-01T00:00:00Z", **_FABLE),
    _p("claude-opus-5-5", "Claude Opus 5.5", "2026-09-22T00:00:00Z"),
    _p("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-28T00:00:00Z", thinking_types=("adaptive", "between_tools"),
       disabled_error=DISABLED_USE_BETWEEN_TOOLS),
    _p("claude-haiku-5-5", "Claude Haiku 5.5", "2026-10-07T00:00:00Z", thinking_types=("adaptive", "disabled"),
       rejects_forced_tool_choice=False),
    _p("claude-fable-5", "Claude Fable 5", "2026-06-09T00:00:00Z", rejects_forced_tool_choice=False,
       preserved_thinking=False, updates_in_thinking=False),
    _p("claude-mythos-5", "Claude Mythos 5", "2026-06-09T00:00:00Z", rejects_forced_tool_choice=False,
       preserved_thinking=False, updates_in_thinking=False),
    _p("claude-opus-5", "Claude Opus 5", "2026-07-24T00:00:00Z", thinking_types=("adaptive", "disabled"),
       rejects_forced_tool_choice=False, preserved_thinking=False, updates_in_thinking=False),
    _p("claude-sonnet-5", "Claude Sonnet 5", "2026-06-30T00:00:00Z", thinking_types=("adaptive", "disabled"),
       off_up_to="max", rejects_forced_tool_choice=False, preserved_thinking=False, updates_in_thinking=False),
    _p("claude-opus-4-8", "Claude Opus 4.8", "2026-05-28T00:00:00Z", thinks_by_default=False,
       thinking_types=("adaptive", "disabled"), off_up_to="max", rejects_forced_tool_choice=False,
       preserved_thinking=False, updates_in_thinking=False),
    _p("claude-opus-4-7", "Claude Opus 4.7", "2026-04-16T00:00:00Z", thinks_by_default=False,
       thinking_types=("adaptive", "disabled"), off_up_to="max", rejects_forced_tool_choice=False,
       preserved_thinking=False, updates_in_thinking=False),
    _p("claude-mythos-preview", "Claude Mythos Preview", "2026-04-07T00:00:00Z",
       thinking_types=("adaptive", "enabled"), effort=NO_XHIGH, rejects_forced_tool_choice=False,
       preserved_thinking=False, updates_in_thinking=False, lifecycle="deprecated"),
    _p("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z", thinking_types=("adaptive", "enabled", "disabled"),
       effort=NO_XHIGH, off_up_to="max", **_OLD),
    _p("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z",
       thinking_types=("adaptive", "enabled", "disabled"), effort=NO_XHIGH, off_up_to="max", **_OLD),
    _p("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z", context_window=200_000,
       max_output=64_000, thinking_types=("enabled", "disabled"), effort=("low", "medium", "high"), off_up_to="max",
       rejects_prefill=False, **_OLD),
    _p("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", context_window=200_000,
       max_output=64_000, thinking_types=("enabled", "disabled"), effort=(), off_up_to="max", rejects_prefill=False,
       **_OLD),
)}
ALIASES = {"claude-opus-4-5": "claude-opus-4-5-20251101", "claude-haiku-4-5": "claude-haiku-4-5-20251001"}


def profile(model: object, extra: dict[str, Profile] | None = None) -> Profile | None:
    """The profile of a model id or alias (None: the API does not know it: a 404)."""
    if not isinstance(model, str):
        return None
    if extra and model in extra:
        return extra[model]
    return PROFILES.get(ALIASES.get(model, model))


def custom(id: str, **kw: Any) -> Profile:
    """A model the fake knows and agentls's table does not (a release newer than the installed SDK)."""
    return Profile(id, id, datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z"), **kw)
