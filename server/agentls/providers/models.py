"""What agentls knows about each Claude model: limits, prices, thinking and effort. One place.

Every id the installed ``anthropic`` SDK lists (``anthropic.types.Model``) has a row; a test keeps it
that way. Sources (platform.claude.com, read 2026-12): the models overview, each model's overview,
"what's new" and migration guide, "Pricing", "Prompt caching" (minimum cacheable length), "Thinking"
and "Effort". Fable 5.2 / Mythos 5.2 prices and Mythos Preview's are from release notes that quote
them (no pricing page for them was available). ``docs/messages-api.md`` says which rules follow.

An id not in the table is looked up once with the Models API (``models.retrieve``: context window and
output limit) by the provider, and otherwise gets ``fallback_spec``: limits any current model meets.
Importing this module costs nothing (no SDK).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias

from agentls.choices import Effort

ThinkingType: TypeAlias = Literal["adaptive", "enabled", "disabled", "between_tools"]
THINKING_TYPES: tuple[ThinkingType, ...] = ("adaptive", "enabled", "disabled", "between_tools")
EFFORT_LEVELS: tuple[Effort, ...] = ("low", "medium", "high", "xhigh", "max")
NO_XHIGH: tuple[Effort, ...] = ("low", "medium", "high", "max")


@dataclass(frozen=True)
class Rates:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_write: float  # 5-minute cache writes (the TTL agentls uses)
    cache_read: float


@dataclass(frozen=True)
class ModelSpec:
    id: str
    context_window: int
    max_output: int
    rates: Rates
    #: Haiku 5.5: a prompt over this many tokens is billed at ``long_rates`` (every token of the request)
    long_prompt: int | None = None
    long_rates: Rates | None = None
    min_cacheable: int = 512
    #: thinking runs when the request has no ``thinking`` field
    thinks_by_default: bool = True
    thinking_types: tuple[ThinkingType, ...] = ("adaptive",)
    effort: tuple[Effort, ...] = EFFORT_LEVELS
    #: thinking may be turned off (``disabled`` / ``between_tools``) only up to this effort
    off_up_to: Effort = "high"
    lifecycle: Literal["active", "deprecated"] = "active"
    #: False for a guess: an id the table does not know, whose effort levels the Models API did not give.
    known: bool = True

    @property
    def always_thinks(self) -> bool:
        return self.thinks_by_default and not {"disabled", "between_tools"} & set(self.thinking_types)


def _rates(input: float, output: float, read: float | None = None) -> Rates:
    """5-minute cache writes cost 1.25x the input price; reads 0.1x unless given."""
    return Rates(input, output, input * 1.25, input / 10 if read is None else read)


def _pre5(id: str, context_window: int, max_output: int, rates: Rates, **kw: Any) -> ModelSpec:
    """A model from before 5.x: it thinks only when asked."""
    return ModelSpec(id, context_window, max_output, rates, thinks_by_default=False, **kw)


SPECS: dict[str, ModelSpec] = {s.id: s for s in (
    ModelSpec("claude-fable-5-2", 1_000_000, 128_000, _rates(8, 40, 0.20)),
    ModelSpec("claude-mythos-5-2", 1_000_000, 128_000, _rates(8, 40, 0.20)),
    ModelSpec("claude-fable-5-1", 1_000_000, 128_000, _rates(10, 50, 0.25)),
    ModelSpec("claude-mythos-5-1", 1_000_000, 128_000, _rates(10, 50, 0.25)),
    ModelSpec("claude-opus-5-5", 1_000_000, 128_000, _rates(4, 20, 0.20)),
    ModelSpec("claude-sonnet-5-5", 1_000_000, 128_000, _rates(2, 10, 0.10),
              thinking_types=("adaptive", "between_tools")),
    ModelSpec("claude-haiku-5-5", 1_000_000, 128_000, _rates(0.10, 0.50, 0.01), long_prompt=100_000,
              long_rates=_rates(0.50, 2.50, 0.05), thinking_types=("adaptive", "disabled")),
    ModelSpec("claude-fable-5", 1_000_000, 128_000, _rates(10, 50)),
    ModelSpec("claude-mythos-5", 1_000_000, 128_000, _rates(10, 50)),
    ModelSpec("claude-opus-5", 1_000_000, 128_000, _rates(5, 25), thinking_types=("adaptive", "disabled")),
    ModelSpec("claude-sonnet-5", 1_000_000, 128_000, _rates(2, 10), min_cacheable=1_024,
              thinking_types=("adaptive", "disabled"), off_up_to="max"),
    _pre5("claude-opus-4-8", 1_000_000, 128_000, _rates(5, 25), min_cacheable=1_024,
          thinking_types=("adaptive", "disabled"), off_up_to="max"),
    _pre5("claude-opus-4-7", 1_000_000, 128_000, _rates(5, 25), min_cacheable=2_048,
          thinking_types=("adaptive", "disabled"), off_up_to="max"),
    ModelSpec("claude-mythos-preview", 1_000_000, 128_000, _rates(25, 125), min_cacheable=2_048,
              thinking_types=("adaptive", "enabled"), effort=NO_XHIGH, lifecycle="deprecated"),
    _pre5("claude-opus-4-6", 1_000_000, 128_000, _rates(5, 25), min_cacheable=4_096,
          thinking_types=("adaptive", "enabled", "disabled"), effort=NO_XHIGH, off_up_to="max"),
    _pre5("claude-sonnet-4-6", 1_000_000, 128_000, _rates(3, 15), min_cacheable=1_024,
          thinking_types=("adaptive", "enabled", "disabled"), effort=NO_XHIGH, off_up_to="max"),
    _pre5("claude-opus-4-5-20251101", 200_000, 64_000, _rates(5, 25), min_cacheable=4_096,
          thinking_types=("enabled", "disabled"), effort=("low", "medium", "high"), off_up_to="max",
          lifecycle="deprecated"),
    _pre5("claude-haiku-4-5-20251001", 200_000, 64_000, _rates(1, 5), min_cacheable=4_096,
          thinking_types=("enabled", "disabled"), effort=(), off_up_to="max"),
)}
ALIASES = {"claude-opus-4-5": "claude-opus-4-5-20251101", "claude-haiku-4-5": "claude-haiku-4-5-20251001"}

#: Limits every current model meets; the rates are Sonnet 5.5's (the default model).
FALLBACK = ModelSpec("*", 200_000, 32_000, SPECS["claude-sonnet-5-5"].rates, thinking_types=("adaptive",),
                     known=False)


def spec_for(model: str) -> ModelSpec | None:
    """The table's row for a model id or alias, None for an id it does not know."""
    return SPECS.get(ALIASES.get(model, model))


def fallback_spec(model: str, *, context_window: int | None = None, max_output: int | None = None) -> ModelSpec:
    """A row for an unknown id: the limits the Models API gave, else ``FALLBACK``'s."""
    return replace(FALLBACK, id=model, context_window=context_window or FALLBACK.context_window,
                   max_output=max_output or FALLBACK.max_output)
