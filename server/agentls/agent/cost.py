"""Cost of a turn from its token usage and the configured price table."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from agentls.config import DEFAULT_PRICES, Price


def price_for(model: str, prices: Mapping[str, Price]) -> Price:
    """The first configured pattern that matches the model, then the built-in table."""
    for table in (prices, {k: Price.model_validate(v) for k, v in DEFAULT_PRICES.items()}):
        for pattern, price in table.items():
            if fnmatchcase(model, pattern):
                return price
    return Price.model_validate(DEFAULT_PRICES["*"])


def cost_usd(price: Price, input_tokens: int, output_tokens: int,
             cache_write_tokens: int, cache_read_tokens: int) -> float:
    return (input_tokens * price.input + output_tokens * price.output
            + cache_write_tokens * price.cache_write + cache_read_tokens * price.cache_read) / 1_000_000
