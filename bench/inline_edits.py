"""Code action latency while an agent session streams, beside the same server idle (same run).

The fake streams ~200 SSE events/s (4 characters each), about twice a fast model's token rate.

    python bench/inline_edits.py [--requests 2000]

The server is the real ``agentls serve`` over stdio; the model is the fake Messages API streaming a
long reply (thousands of SSE events) for the whole measurement. Target: p99 while streaming <= 2x
the idle p99.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from tests.fakes.messages_api import FakeMessagesAPI, Reply, Text

from _stdio import StdioClient, ensure_bytecode, percentile


def measure(client: StdioClient, params: dict[str, object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.request("textDocument/codeAction", params)
        samples.append(time.perf_counter() - start)
        assert response.get("result"), response
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    ensure_bytecode()  # as an installed agentls has it (see _stdio.ensure_bytecode)
    with tempfile.TemporaryDirectory() as tmp, FakeMessagesAPI() as fake:
        root = Path(tmp) / "ws"
        root.mkdir()
        text = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(2000))
        (root / "big.py").write_text(text)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
        env.update(fake.env(), XDG_CONFIG_HOME=str(Path(tmp) / "config"), AGENTLS_DATA_DIR=str(Path(tmp) / "data"))
        client = StdioClient([sys.executable, "-m", "agentls", "serve"], env)
        client.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {},
                                      "initializationOptions": {"inlineProposals": True}})
        client.notify("initialized", {})
        uri = (root / "big.py").as_uri()
        client.notify("textDocument/didOpen",
                      {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
        params = {"textDocument": {"uri": uri},
                  "range": {"start": {"line": 300, "character": 0}, "end": {"line": 306, "character": 0}},
                  "context": {"diagnostics": []}}
        time.sleep(3)  # let the server's background import of the SDK finish (about 1.3 s)
        measure(client, params, 100)  # warm up
        idle = measure(client, params, args.requests)

        # A reply that streams for longer than the measurement: ~4 characters per event at 200 events/s,
        # about twice as fast as a fast model streams tokens.
        fake.add(Reply([Text("word " * 2000)], chunk_size=4, event_delay=0.005))
        fake.respond_with(lambda request: Reply.text("done"))
        started = client.request("workspace/executeCommand", {"command": "agentls.edit", "arguments": [{
            "uri": uri, "instruction": "rename", "range": params["range"]}]})
        assert "result" in started, started
        deadline = time.time() + 10
        while not fake.message_requests and time.time() < deadline:
            time.sleep(0.01)
        stream_start = time.perf_counter()
        busy = measure(client, params, args.requests)
        elapsed = time.perf_counter() - stream_start
        still_streaming = len(fake.message_requests) == 1
        client.close()

    print(f"code action round trip, {args.requests} sequential requests (agentls serve over stdio)")
    for name, samples in (("idle", idle), ("agent session streaming", busy)):
        print(f"  {name:24}: p50 {percentile(samples, 50) * 1000:.2f} ms  p99 {percentile(samples, 99) * 1000:.2f} ms"
              f"  max {max(samples) * 1000:.2f} ms")
    ratio = percentile(busy, 99) / percentile(idle, 99)
    print(f"  the session streamed during the whole measurement ({elapsed:.1f} s): {still_streaming}")
    print(f"  p99 streaming / idle: {ratio:.2f}x  target <= 2x  {'PASS' if ratio <= 2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
