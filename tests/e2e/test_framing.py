"""A message with a bad frame costs only itself: the requests after it are answered (issue #16).

Raw bytes go to a real ``agentls serve`` over stdio. Before ``lsp/framing.py`` pygls read a wrong
``Content-Length`` literally and the following requests disappeared into the broken body.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import RawConnection

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"capabilities": {}, "processId": None}}
SHUTDOWN = {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}
STRAY = json.dumps({"jsonrpc": "2.0", "id": 99, "method": "shutdown"}).encode()


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


BAD = {
    "too long": b"Content-Length: %d\r\n\r\n%s" % (len(STRAY) + 500, STRAY),
    "too short": b"Content-Length: %d\r\n\r\n%s" % (len(STRAY) - 9, STRAY),
    "non-numeric": b"Content-Length: lots\r\n\r\n%s" % STRAY,
    "garbage before the header": b"\x00\xff garbage with no line break ",
    "not JSON": b"Content-Length: 9\r\n\r\n{not json",
}


@pytest.mark.parametrize("together", [False, True], ids=["separate writes", "one write"])
@pytest.mark.parametrize("bad", list(BAD))
async def test_requests_after_a_bad_frame_are_answered(bad: str, together: bool, tmp_path: Path) -> None:
    conn = await RawConnection.open(tmp_path / "home")
    assert conn.process.stdin is not None
    try:
        writes = [BAD[bad], frame(INITIALIZE), frame(SHUTDOWN)]
        for data in [b"".join(writes)] if together else writes:
            conn.process.stdin.write(data)
            await conn.process.stdin.drain()
            await asyncio.sleep(0.05)
        seen: list[dict[str, Any]] = []
        while not any(m.get("id") == 2 and "method" not in m for m in seen):
            seen.append(await conn.read(timeout=5))
        answered = {m["id"]: m for m in seen if "id" in m and "method" not in m}
        assert "capabilities" in answered[1]["result"]
        assert answered[2].get("error") is None
        assert 99 not in answered  # the broken message itself is dropped, not half-read
        warnings = [m for m in seen if m.get("method") == "window/logMessage"
                    and "skipped a malformed message" in m["params"]["message"]]
        assert len(warnings) == 1, warnings
        assert conn.process.returncode is None
        await conn.send({"method": "exit"})
        assert await asyncio.wait_for(conn.process.wait(), 10) == 0
    finally:
        await conn.close()
