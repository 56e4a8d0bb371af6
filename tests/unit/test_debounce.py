"""The per-key debouncer: one call per quiet key, keys independent, cancelled calls never run."""

from __future__ import annotations

import asyncio
import functools

from agentls.lsp.debounce import Debouncer


async def test_a_burst_costs_one_call_after_the_last_schedule() -> None:
    debounce: Debouncer[str] = Debouncer()
    calls: list[int] = []
    for n in range(5):
        debounce.schedule("a", 0.05, functools.partial(calls.append, n))
        await asyncio.sleep(0.01)
    assert calls == []
    await asyncio.sleep(0.1)
    assert calls == [4]


async def test_keys_are_independent() -> None:
    debounce: Debouncer[str] = Debouncer()
    calls: list[str] = []
    debounce.schedule("a", 0.02, lambda: calls.append("a"))
    debounce.schedule("b", 0.02, lambda: calls.append("b"))
    await asyncio.sleep(0.06)
    assert sorted(calls) == ["a", "b"]


async def test_cancelled_calls_never_run() -> None:
    debounce: Debouncer[str] = Debouncer()
    calls: list[str] = []
    debounce.schedule("a", 0.02, lambda: calls.append("a"))
    debounce.schedule("b", 0.02, lambda: calls.append("b"))
    debounce.schedule("c", 0.02, lambda: calls.append("c"))
    assert debounce.cancel("a") is True
    assert debounce.cancel("a") is False
    assert sorted(debounce.cancel_all()) == ["b", "c"]
    assert debounce.cancel_all() == []
    await asyncio.sleep(0.06)
    assert calls == []


async def test_a_callback_may_schedule_its_own_key_again() -> None:
    debounce: Debouncer[str] = Debouncer()
    calls: list[int] = []

    def again() -> None:
        calls.append(len(calls))
        if len(calls) < 2:
            debounce.schedule("a", 0.01, again)

    debounce.schedule("a", 0.01, again)
    await asyncio.sleep(0.08)
    assert calls == [0, 1]
    assert debounce.cancel_all() == []
