"""Cost of a turn from its token usage: the price overrides in the settings, else the model table."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from agentls.config import Price
from agentls.providers.base import Usage
from agentls.providers.models import FALLBACK, Rates, spec_for


def _rates(price: Price) -> Rates:
    return Rates(price.input, price.output, price.cache_write, price.cache_read)


def rates_for(model: str, overrides: Mapping[str, Price], prompt_tokens: int = 0) -> Rates:
    """The first override pattern that matches the model, else its row of the model table (its long-prompt
    rates when the prompt is over its threshold), else the default model's rates."""
    for pattern, price in overrides.items():
        if fnmatchcase(model, pattern):
            return _rates(price)
    spec = spec_for(model)
    if spec is None:
        return FALLBACK.rates
    if spec.long_prompt is not None and spec.long_rates is not None and prompt_tokens > spec.long_prompt:
        return spec.long_rates
    return spec.rates


def cost_usd(model: str, overrides: Mapping[str, Price], usage: Usage) -> float:
    """What one turn's tokens cost in US dollars."""
    rates = rates_for(model, overrides, usage.total_input)
    return (usage.input_tokens * rates.input + usage.output_tokens * rates.output
            + usage.cache_creation_input_tokens * rates.cache_write
            + usage.cache_read_input_tokens * rates.cache_read) / 1_000_000
