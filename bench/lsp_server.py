"""Start-up and code-action latency of ``agentls serve`` beside a bare pygls server, same run.

    python bench/lsp_server.py [--starts 15] [--requests 1000]

Start-up: spawn to the initialize response (target: <= 1.3x the bare server).
Code actions: 1,000 sequential requests over stdio on an open 2,000-line file (target: p99 <= 2 ms),
after the server's first seconds (reported apart: the SDK import and the index build start then).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _stdio import StdioClient, ensure_bytecode, initialize_params, percentile

AGENTLS = [sys.executable, "-m", "agentls", "serve"]
BARE = [sys.executable, str(Path(__file__).parent / "bare_server.py")]


def isolated_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env["XDG_CONFIG_HOME"] = home
    return env


def time_startup(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    client = StdioClient(command, env)
    client.request("initialize", initialize_params())
    elapsed = time.perf_counter() - start
    client.notify("initialized", {})
    client.close()
    return elapsed


#: The server's first seconds: agentls imports the model SDK in a thread and starts the index builder.
SETTLE_S = 3.0


def code_action_latencies(command: list[str], env: dict[str, str], n: int, root: Path,
                          settling: list[float] | None = None) -> list[float]:
    """Steady-state latencies; the first SETTLE_S seconds' go to ``settling`` when given."""
    client = StdioClient(command, env)
    client.request("initialize", initialize_params(root.as_uri()))
    client.notify("initialized", {})
    path = root / "big.py"
    text = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(1000))
    uri = path.as_uri()
    client.notify("textDocument/didOpen",
                  {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    params = {"textDocument": {"uri": uri},
              "range": {"start": {"line": 10, "character": 0}, "end": {"line": 12, "character": 0}},
              "context": {"diagnostics": []}}
    start = time.perf_counter()
    while time.perf_counter() - start < SETTLE_S:
        began = time.perf_counter()
        client.request("textDocument/codeAction", params)
        if settling is not None:
            settling.append(time.perf_counter() - began)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.request("textDocument/codeAction", params)
        samples.append(time.perf_counter() - start)
        assert "result" in response, response
    client.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    ensure_bytecode()  # as an installed agentls has it (see _stdio.ensure_bytecode)
    with tempfile.TemporaryDirectory() as home:
        env = isolated_env(home)
        ours, bare = [], []
        time_startup(AGENTLS, env)  # warm the OS file cache for both
        time_startup(BARE, env)
        for _ in range(args.starts):  # interleaved so drift hits both alike
            ours.append(time_startup(AGENTLS, env))
            bare.append(time_startup(BARE, env))
        ratio = statistics.median(ours) / statistics.median(bare)
        print(f"start-up (spawn -> initialize response), {args.starts} runs each")
        print(f"  bare pygls : median {statistics.median(bare) * 1000:6.1f} ms  min {min(bare) * 1000:6.1f} ms")
        print(f"  agentls    : median {statistics.median(ours) * 1000:6.1f} ms  min {min(ours) * 1000:6.1f} ms")
        print(f"  ratio {ratio:.2f}x  target <= 1.30x  {'PASS' if ratio <= 1.3 else 'FAIL'}")

        root = Path(home) / "ws"
        root.mkdir()
        results = {}
        settling: dict[str, list[float]] = {}
        for name, command in (("bare pygls", BARE), ("agentls", AGENTLS)):
            settling[name] = []
            samples = code_action_latencies(command, env, args.requests, root, settling[name])
            results[name] = samples
        print(f"code action round trip over stdio, first {SETTLE_S:.0f} s after start")
        for name, samples in settling.items():
            print(f"  {name:10} : p50 {percentile(samples, 50) * 1000:.2f} ms  "
                  f"p99 {percentile(samples, 99) * 1000:.2f} ms  max {max(samples) * 1000:.2f} ms")
        print(f"code action round trip over stdio, then {args.requests} sequential requests")
        for name, samples in results.items():
            print(f"  {name:10} : p50 {percentile(samples, 50) * 1000:.2f} ms  "
                  f"p99 {percentile(samples, 99) * 1000:.2f} ms  max {max(samples) * 1000:.2f} ms")
        p99 = percentile(results["agentls"], 99) * 1000
        print(f"  agentls p99 {p99:.2f} ms  target <= 2 ms  {'PASS' if p99 <= 2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
