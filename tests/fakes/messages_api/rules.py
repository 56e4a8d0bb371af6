"""What each model accepts: the 400s of today's API that depend on the model and the API version.

From the platform docs (migration guides for Sonnet 5.5 and Opus 5.5, "Thinking", "Effort",
"Context windows", "Errors") and, where the docs give no text, the messages seen from the real API:
sampling parameters (gone in API version 2026-10-21, the one SDK 2.x sends), forced tool choice,
prefill (a final assistant message that is not a paused turn), thinking types and their fields,
effort levels, `max_tokens` over the model's output limit, a prompt over the context window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .binding import BINDING_BETA
from .models import ADAPTIVE_UNSUPPORTED, BETWEEN_TOOLS_UNSUPPORTED, ENABLED_UNSUPPORTED, Profile

SAMPLING = ("temperature", "top_p", "top_k")
#: The API version from which sampling parameters are gone for every model.
NO_SAMPLING_VERSION = "2026-10-21"
PREFILL = ("This model does not support assistant message prefill. The conversation must end with a user "
           "message.")
FORCED_TOOL_CHOICE = 'tool_choice: type "tool" and "any" are not supported for this model.'
FORCED_WITH_THINKING = "Thinking may not be enabled when tool_choice forces tool use."
EFFORT_ORDER = ("low", "medium", "high", "xhigh", "max")
DISPLAYS = ("summarized", "omitted")
UPDATES_BETA = "thinking-display-updates-2026-08-18"


def check_model_rules(body: dict[str, Any], profile: Profile, headers: dict[str, str], *, input_tokens: int,
                      is_paused_turn: Callable[[object], bool], count_only: bool = False) -> str | None:
    """The invalid_request_error message for a request `profile`'s model rejects, or None."""
    version = headers.get("anthropic-version", "")
    betas = {b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()}
    for name in SAMPLING:
        if name in body:
            if version >= NO_SAMPLING_VERSION:
                return f"{name}: Extra inputs are not permitted"
            if profile.rejects_sampling:
                return f"`{name}` is deprecated for this model."
    if not count_only and isinstance(body.get("max_tokens"), int) and body["max_tokens"] > profile.max_output:
        return (f"max_tokens: {body['max_tokens']} > {profile.max_output}, which is the maximum allowed number of "
                f"output tokens for {profile.id}")
    thinking_on, problem = _check_thinking(body, profile, betas)
    if problem:
        return problem
    if problem := _check_tool_choice(body, profile, thinking_on):
        return problem
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    if (profile.rejects_prefill and isinstance(last, dict) and last.get("role") == "assistant"
            and not is_paused_turn(last.get("content"))):
        return PREFILL
    if input_tokens > profile.context_window:
        return f"prompt is too long: {input_tokens} tokens > {profile.context_window} maximum"
    return None


def _effort(body: dict[str, Any]) -> tuple[str | None, str | None]:
    config = body.get("output_config")
    if config is None:
        return None, None
    if not isinstance(config, dict):
        return None, "output_config: Input should be a valid dictionary"
    effort = config.get("effort")
    if effort is not None and effort not in EFFORT_ORDER:
        return None, "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"
    return effort, None


def _check_thinking(body: dict[str, Any], profile: Profile, betas: set[str]) -> tuple[bool, str | None]:
    """(thinking on?, error) for the `thinking` and `output_config` fields."""
    effort, problem = _effort(body)
    if problem:
        return False, problem
    if effort is not None and effort not in profile.effort:
        if not profile.effort:
            return False, "output_config.effort: this model does not support the effort parameter"
        return False, f"output_config.effort '{effort}' is not supported for this model"
    config = body.get("thinking")
    if config is None:
        return profile.thinks_by_default, None
    if not isinstance(config, dict):
        return False, "thinking: Input should be a valid dictionary"
    kind = config.get("type")
    extra = set(config) - {"type"}
    if kind == "between_tools":
        if "between_tools" not in profile.thinking_types:
            return False, BETWEEN_TOOLS_UNSUPPORTED
        if extra:
            return False, f"thinking.between_tools.{sorted(extra)[0]}: Extra inputs are not permitted"
        return False, _off_effort(effort, profile)
    if kind == "disabled":
        if "disabled" not in profile.thinking_types:
            return False, profile.disabled_error
        if extra:
            return False, f"thinking.disabled.{sorted(extra)[0]}: Extra inputs are not permitted"
        return False, _off_effort(effort, profile)
    if kind == "enabled" and "enabled" not in profile.thinking_types:
        return True, ENABLED_UNSUPPORTED
    if kind == "adaptive" and "adaptive" not in profile.thinking_types:
        return True, ADAPTIVE_UNSUPPORTED
    if kind not in ("adaptive", "enabled"):
        return False, ("thinking.type: Input should be 'adaptive', 'enabled', 'disabled' or 'between_tools'")
    allowed = {"type", "display", "block_binding"} | ({"budget_tokens"} if kind == "enabled" else set())
    if unknown := sorted(set(config) - allowed):
        return True, f"thinking.{kind}.{unknown[0]}: Extra inputs are not permitted"
    display = config.get("display")
    if display is not None and display not in DISPLAYS and not (display == "updates" and UPDATES_BETA in betas):
        return True, f"thinking.{kind}.display: Input should be 'summarized' or 'omitted'"
    if "block_binding" in config:
        if BINDING_BETA not in betas:
            return True, f"thinking.{kind}.block_binding: Extra inputs are not permitted"
        binding = config["block_binding"]
        behaviour = binding.get("prefix_mismatch_behavior") if isinstance(binding, dict) else None
        if behaviour not in ("error", "drop_block", None):
            return True, (f"thinking.{kind}.block_binding.prefix_mismatch_behavior: Input should be 'error' or "
                          "'drop_block'")
    return True, None


def _off_effort(effort: str | None, profile: Profile) -> str | None:
    """Thinking can be turned off only up to an effort level (high on the models that allow it at all)."""
    if effort is not None and EFFORT_ORDER.index(effort) > EFFORT_ORDER.index(profile.off_up_to):
        return (f"output_config.effort '{effort}' is not supported when thinking is disabled on this model. Use "
                f"effort '{profile.off_up_to}' or below, or enable thinking.")
    return None


def _check_tool_choice(body: dict[str, Any], profile: Profile, thinking_on: bool) -> str | None:
    choice = body.get("tool_choice")
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in ("any", "tool"):
        return None
    if profile.rejects_forced_tool_choice:
        return FORCED_TOOL_CHOICE
    config = body.get("thinking")
    if thinking_on and isinstance(config, dict) and config.get("type") == "enabled":
        return FORCED_WITH_THINKING
    return None


def drop_requested(body: dict[str, Any]) -> bool:
    config = body.get("thinking")
    binding = config.get("block_binding") if isinstance(config, dict) else None
    return isinstance(binding, dict) and binding.get("prefix_mismatch_behavior") == "drop_block"
