"""A large tool input streamed in small ``input_json_delta`` pieces: our provider against the SDK's accumulator.

    python bench/large_tool_input.py [--sizes 0.25,0.5,1,2,10] [--chunk 100] [--sdk-budget 60]

Each size is one turn from the fake Messages API over HTTP (a ``create`` tool call whose ``file_text`` is that
many MB), read three ways in the same run, through the real SDK:
- raw: the SDK's raw event stream (``messages.create(stream=True)``), events only; the floor (HTTP, SSE, models);
- ours: ``AnthropicProvider.stream_turn`` (raw events, pieces joined and the input parsed once: ``turn_stream``);
- sdk: ``messages.stream(...)`` + ``get_final_message()``, which re-parses the input on every delta (what the
  provider did before). Sizes after the first that takes longer than ``--sdk-budget`` seconds are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[1] / "server"))

import anthropic
from tests.fakes.messages_api import FakeMessagesAPI, Reply, ToolUse

from agentls.config import ModelSettings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import Message, TextBlock, TurnRequest

MODEL = "claude-sonnet-5-5"
TOOL = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
LINE = 'print("héllo, \\"wörld\\"")\t# ünïcode and escapes\n'


def tool_input(megabytes: float) -> dict[str, Any]:
    return {"command": "create", "path": "big.py", "file_text": LINE * int(megabytes * 1e6 / len(LINE.encode()))}


async def raw(client: anthropic.AsyncAnthropic) -> int:
    events = 0
    stream = await client.messages.create(model=MODEL, max_tokens=1024, tools=[TOOL],  # type: ignore[list-item]
                                          messages=[{"role": "user", "content": "write it"}], stream=True)
    async with stream:
        async for _ in stream:
            events += 1
    return events


async def ours(provider: AnthropicProvider) -> dict[str, Any]:
    request = TurnRequest(model=MODEL, system="", messages=[Message("user", [TextBlock("write it")])],
                          tools=[TOOL], max_tokens=1024)
    [call] = (await provider.stream_turn(request)).tool_calls
    assert isinstance(call.input, dict)
    return call.input


async def sdk(client: anthropic.AsyncAnthropic) -> dict[str, Any]:
    async with client.messages.stream(model=MODEL, max_tokens=1024, tools=[TOOL],  # type: ignore[list-item]
                                      messages=[{"role": "user", "content": "write it"}]) as stream:
        message = await stream.get_final_message()
    [block] = [b for b in message.content if b.type == "tool_use"]
    return dict(block.input)  # type: ignore[union-attr]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.25,0.5,1,2,10", help="input sizes in MB, comma-separated")
    parser.add_argument("--chunk", type=int, default=100, help="characters per input_json_delta")
    parser.add_argument("--sdk-budget", type=float, default=60.0, help="skip larger SDK runs past this (s)")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    print(f"tool input in input_json_delta pieces of {args.chunk} characters, fake Messages API over HTTP")
    print(f"{'MB':>6} {'deltas':>8} {'raw s':>8} {'ours s':>8} {'sdk s':>9}")
    sdk_over = False
    with FakeMessagesAPI() as fake:
        settings = ModelSettings.model_validate({"name": MODEL, "api_key": "k", "base_url": fake.base_url,
                                                 "timeout_s": 600, "turn_deadline_s": 3600})
        provider = AnthropicProvider(settings)
        client = anthropic.AsyncAnthropic(api_key="k", base_url=fake.base_url, max_retries=0, timeout=600)
        try:
            for size in sizes:
                expected = tool_input(size)
                fake.respond_with(lambda request, e=expected: Reply([ToolUse(TOOL["name"], e)],  # type: ignore[misc]
                                                                    chunk_size=args.chunk))
                started = time.perf_counter()
                events = await raw(client)
                raw_s = time.perf_counter() - started
                started = time.perf_counter()
                assert await ours(provider) == expected
                ours_s = time.perf_counter() - started
                sdk_text = "skipped"
                if not sdk_over:
                    started = time.perf_counter()
                    assert await sdk(client) == expected
                    sdk_s = time.perf_counter() - started
                    sdk_over = sdk_s > args.sdk_budget
                    sdk_text = f"{sdk_s:.2f}"
                print(f"{size:>6g} {events:>8} {raw_s:>8.2f} {ours_s:>8.2f} {sdk_text:>9}", flush=True)
        finally:
            await provider.aclose()
            await client.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
