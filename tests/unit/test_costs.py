"""Costs match the list prices of every model id the installed SDK lists (platform.claude.com "Pricing"
and the models' pages, 2026-12; Fable/Mythos 5.2 and Mythos Preview from release notes quoting them).

The expected figures are written out here, apart from the model table, so a typo in either shows up.
"""

from __future__ import annotations

import typing

import anthropic
import pytest

from agentls.agent.cost import cost_usd
from agentls.agent.server_tools import cost_usd as server_cost_usd
from agentls.config import Price
from agentls.providers.base import Usage

#: input, output, 5-minute cache write, cache read: US dollars per million tokens
LIST_PRICES: dict[str, tuple[float, float, float, float]] = {
    "claude-fable-5-2": (8, 40, 10, 0.20),
    "claude-mythos-5-2": (8, 40, 10, 0.20),
    "claude-haiku-5-5": (0.10, 0.50, 0.125, 0.01),
    "claude-sonnet-5-5": (2, 10, 2.50, 0.10),
    "claude-fable-5-1": (10, 50, 12.50, 0.25),
    "claude-opus-5-5": (4, 20, 5, 0.20),
    "claude-mythos-5-1": (10, 50, 12.50, 0.25),
    "claude-sonnet-5": (2, 10, 2.50, 0.20),
    "claude-fable-5": (10, 50, 12.50, 1.00),
    "claude-mythos-5": (10, 50, 12.50, 1.00),
    "claude-opus-5": (5, 25, 6.25, 0.50),
    "claude-opus-4-8": (5, 25, 6.25, 0.50),
    "claude-opus-4-7": (5, 25, 6.25, 0.50),
    "claude-mythos-preview": (25, 125, 31.25, 2.50),
    "claude-opus-4-6": (5, 25, 6.25, 0.50),
    "claude-sonnet-4-6": (3, 15, 3.75, 0.30),
    "claude-haiku-4-5": (1, 5, 1.25, 0.10),
    "claude-haiku-4-5-20251001": (1, 5, 1.25, 0.10),
    "claude-opus-4-5": (5, 25, 6.25, 0.50),
    "claude-opus-4-5-20251101": (5, 25, 6.25, 0.50),
}
SDK_MODELS = typing.get_args(typing.get_args(anthropic.types.Model)[0])


def test_every_sdk_model_has_a_list_price_here() -> None:
    assert sorted(SDK_MODELS) == sorted(LIST_PRICES)


@pytest.mark.parametrize("model", SDK_MODELS)
def test_cost_matches_the_list_price(model: str) -> None:
    input_, output, write, read = LIST_PRICES[model]
    # small enough to stay under Haiku 5.5's long-prompt threshold: 1,000 tokens of each kind
    usage = Usage(input_tokens=1_000, output_tokens=1_000, cache_creation_input_tokens=1_000,
                  cache_read_input_tokens=1_000)
    assert cost_usd(model, {}, usage) == pytest.approx((input_ + output + write + read) / 1_000)


def test_haiku_5_5_prompts_over_100k_tokens_cost_more() -> None:
    long = Usage(input_tokens=90_000, cache_read_input_tokens=20_000, output_tokens=1_000)
    assert cost_usd("claude-haiku-5-5", {}, long) == pytest.approx((90_000 * 0.50 + 20_000 * 0.05
                                                                     + 1_000 * 2.50) / 1_000_000)


def test_overrides_and_unknown_models() -> None:
    usage = Usage(input_tokens=1_000_000)
    assert cost_usd("claude-sonnet-5-5", {"claude-sonnet*": Price(input=1, output=1, cache_write=1,
                                                                  cache_read=1)}, usage) == 1.0
    assert cost_usd("claude-from-the-future", {}, usage) == 2.0  # priced like the default model


def test_web_searches_cost_ten_dollars_a_thousand() -> None:
    assert server_cost_usd(Usage(web_search_requests=3, web_fetch_requests=5)) == pytest.approx(0.03)
