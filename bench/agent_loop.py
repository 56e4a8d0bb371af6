"""Agent loop overhead and prompt-caching effect, against the fake Messages API (no network).

    python bench/agent_loop.py [--calls 50] [--turns 10]

1. Loop overhead per tool call: a scripted session of N tool calls (view/str_replace on a real
   file, one call per turn) with a zero-latency fake model. Overhead = session wall time minus the
   time spent inside the provider (the HTTP round trip to the fake), per call. Baseline in the same
   run: the same N tool calls run directly through the tool registry, without the loop.
   Target: median overhead per call <= 5 ms.
2. Tokens per request for a 10-turn session, with and without cache breakpoints: input tokens of
   each request (the fake's count_tokens estimate, ~4 chars/token) and, with caching, the share that
   is a byte-identical prefix of the previous request (what the API would read from cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse

from agentls.agent.overlay import Overlay
from agentls.agent.tools import ToolCall, ToolContext, default_registry
from agentls.agent.workspace import Workspace
from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import ModelLimits, TurnRequest, TurnResult
from agentls.providers.models import SPECS
from agentls.runtime import Runtime
from agentls.workflows.run import run_task
from agentls.workflows.task import TaskSpec

EDITOR = "str_replace_based_edit_tool"


class TimedProvider:
    """Wraps a provider and records the time spent in each turn (the model's share)."""

    def __init__(self, inner: AnthropicProvider) -> None:
        self.inner = inner
        self.turn_times: list[float] = []

    async def stream_turn(self, request: TurnRequest, on_event=None) -> TurnResult:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return await self.inner.stream_turn(request, on_event)
        finally:
            self.turn_times.append(time.perf_counter() - start)

    async def count_tokens(self, request: TurnRequest) -> int:
        return await self.inner.count_tokens(request)

    async def limits(self, model: str) -> ModelLimits:
        return await self.inner.limits(model)

    async def download(self, file_id: str, max_bytes: int) -> tuple[str, bytes]:
        return await self.inner.download(file_id, max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_workspace(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
    (root / "src" / "module.py").write_text(body)


def script(calls: int) -> list[ToolUse]:
    uses = []
    for i in range(calls):
        if i % 2 == 0:
            uses.append(ToolUse(EDITOR, {"command": "view", "path": "src/module.py", "view_range": [1, 40]}))
        else:
            uses.append(ToolUse(EDITOR, {"command": "str_replace", "path": "src/module.py",
                                         "old_str": f"return x + {i}\n", "new_str": f"return x + {i} + 0\n"}))
    return uses


def settings_for(base_url: str, max_turns: int) -> Settings:
    return Settings.model_validate({"model": {"api_key": "bench", "base_url": base_url},
                                    "agent": {"max_turns": max_turns + 5}})


async def loop_overhead(calls: int, repeats: int) -> tuple[list[float], list[float]]:
    per_call_overheads, direct = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp, FakeMessagesAPI() as fake:
            root = Path(tmp)
            make_workspace(root)
            fake.add(*[Reply([use]) for use in script(calls)], Reply.text("done"))
            settings = settings_for(fake.base_url, calls)
            provider = TimedProvider(AnthropicProvider(settings.model))
            runtime = Runtime(root, settings, provider=provider)  # type: ignore[arg-type]
            runtime.store()  # opened before the clock starts, as a long-running front end has it
            start = time.perf_counter()
            outcome = await run_task(runtime, TaskSpec(instruction="bench"))
            wall = time.perf_counter() - start
            await runtime.aclose()
            await provider.aclose()
            assert outcome.result.ok, outcome.result.error
            per_call_overheads.append((wall - sum(provider.turn_times)) / calls)

        with tempfile.TemporaryDirectory() as tmp:  # baseline: the same calls, straight through the registry
            root = Path(tmp)
            make_workspace(root)
            workspace = Workspace(root)
            context = ToolContext(workspace=workspace, overlay=Overlay(workspace))
            registry = default_registry()
            start = time.perf_counter()
            for i, use in enumerate(script(calls)):
                await registry.run_calls([ToolCall(f"t{i}", use.name, use.input)], context)
            direct.append((time.perf_counter() - start) / calls)
    return per_call_overheads, direct


def estimate(obj: object) -> int:
    return max(1, -(-len(json.dumps(obj, separators=(",", ":"), sort_keys=True)) // 4))


def strip_cache(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: strip_cache(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [strip_cache(v) for v in obj]
    return obj


async def caching(turns: int) -> None:
    print(f"\ntokens per request, {turns}-turn session (estimate: 4 chars/token)")
    results = {}
    for cache in (False, True):
        with tempfile.TemporaryDirectory() as tmp, FakeMessagesAPI() as fake:
            root = Path(tmp)
            make_workspace(root)
            fake.add(*[Reply([use]) for use in script(turns - 1)], Reply.text("done"))
            settings = settings_for(fake.base_url, turns)
            inner = AnthropicProvider(settings.model)
            original = inner.stream_turn

            async def stream_turn(request: TurnRequest, on_event=None, _cache=cache, original=original):  # type: ignore[no-untyped-def]
                from dataclasses import replace
                return await original(replace(request, cache=_cache), on_event)

            inner.stream_turn = stream_turn  # type: ignore[method-assign]
            runtime = Runtime(root, settings, provider=inner)
            await run_task(runtime, TaskSpec(instruction="bench"))
            await runtime.aclose()
            await inner.aclose()
            bodies = [r.body for r in fake.message_requests]
            results[cache] = bodies
            marks = sum(json.dumps(b).count("cache_control") for b in bodies)
            print(f"  cache breakpoints {'on ' if cache else 'off'}: {marks} cache_control markers sent in total")

    cached_bodies = results[True]
    total_in = cached_read = 0
    minimum = SPECS["claude-sonnet-5-5"].min_cacheable  # shorter prefixes are not cached (no error)
    print("  turn  input tokens  cacheable prefix  share")
    for i, body in enumerate(cached_bodies):
        clean = strip_cache(body)
        tokens = estimate({k: clean[k] for k in ("system", "tools", "messages")})
        if i == 0:
            prefix = 0
        else:
            prev = strip_cache(cached_bodies[i - 1])
            assert clean["messages"][: len(prev["messages"])] == prev["messages"], "prefix not byte-stable"
            assert clean["tools"] == prev["tools"]
            assert clean["system"] == prev["system"]
            prefix = estimate({"system": prev["system"], "tools": prev["tools"], "messages": prev["messages"]})
            prefix = prefix if prefix >= minimum else 0
        total_in += tokens
        cached_read += prefix
        print(f"  {i + 1:4}  {tokens:12,}  {prefix:16,}  {prefix / tokens:5.0%}")
    share = cached_read / total_in
    rates = SPECS["claude-sonnet-5-5"].rates  # the default model's list prices
    no_cache_cost = total_in * rates.input
    with_cache_cost = cached_read * rates.cache_read + (total_in - cached_read) * rates.cache_write
    print(f"  total input tokens {total_in:,}; estimated cache-read share with breakpoints: {share:.0%}")
    print(f"  estimated input cost with caching / without: {with_cache_cost / no_cache_cost:.2f}x")


async def main() -> int:
    os.environ["AGENTLS_DATA_DIR"] = tempfile.mkdtemp(prefix="agentls-bench-")  # never the user's store
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    overheads, direct = await loop_overhead(args.calls, args.repeats)
    median = statistics.median(overheads) * 1000
    print(f"agent loop overhead per tool call ({args.calls}-call session, {args.repeats} runs, fake model)")
    print(f"  tool call alone (registry, no loop): median {statistics.median(direct) * 1000:.2f} ms")
    print(f"  loop overhead (wall - model time):   median {median:.2f} ms  "
          f"min {min(overheads) * 1000:.2f}  max {max(overheads) * 1000:.2f}")
    print(f"  target <= 5 ms median: {'PASS' if median <= 5 else 'FAIL'}")
    await caching(args.turns)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
