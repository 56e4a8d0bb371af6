"""The ``agentls acp`` process: the protocol on stdin/stdout, everything else on stderr.

stdout is the protocol: its file descriptor is duplicated for the connection and fd 1 then points at
stderr, so nothing else (a print, a child process, a library) can write into the stream. Each line from
the client is checked before the library sees it: one that is not JSON is answered with a JSON-RPC parse
error (-32700) and dropped (the library would only log it). When the client goes away, every running
prompt is cancelled; nothing is written after that (writes wait for the client's permission).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

log = logging.getLogger(__name__)

#: The longest line (one JSON-RPC message) read from the client.
LINE_LIMIT = 50 * 1024 * 1024


async def _streams(protocol_fd: int) -> tuple[asyncio.StreamReader, asyncio.StreamReader, asyncio.StreamWriter]:
    from acp.stdio import _WritePipeProtocol  # the library's pipe protocol with drain support

    loop = asyncio.get_running_loop()
    raw = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(raw), sys.stdin)
    write_protocol = _WritePipeProtocol()
    transport, _ = await loop.connect_write_pipe(lambda: write_protocol, os.fdopen(protocol_fd, "wb", buffering=0))
    writer = asyncio.StreamWriter(transport, write_protocol, None, loop)
    checked = asyncio.StreamReader(limit=LINE_LIMIT)
    return raw, checked, writer


async def _check_lines(raw: asyncio.StreamReader, checked: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Pass on the lines that are JSON; answer the others with a parse error."""
    try:
        while line := await raw.readline():
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError as exc:
                log.warning("ACP: a message that is not JSON was dropped (%s)", exc)
                error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": f"Parse error: {exc}"}}
                writer.write(json.dumps(error).encode() + b"\n")
                await writer.drain()
                continue
            checked.feed_data(line)
    except (ValueError, asyncio.LimitOverrunError) as exc:  # a line over LINE_LIMIT: the stream is unusable
        log.error("ACP: %s; closing", exc)
    finally:
        checked.feed_eof()


async def serve_async(agent: Any) -> None:
    from acp import run_agent

    protocol_fd = os.dup(1)
    os.dup2(2, 1)  # fd 1 is stderr from now on: only the connection writes the protocol
    sys.stdout = sys.stderr
    raw, checked, writer = await _streams(protocol_fd)
    checker = asyncio.create_task(_check_lines(raw, checked, writer))
    try:
        await run_agent(agent, writer, checked)  # the library names them from the client's side
    finally:
        checker.cancel()
        await agent.aclose()


def serve() -> int:
    from agentls import logs
    from agentls.acp.agent import AgentlsAgent

    logs.setup("info", None)
    try:
        asyncio.run(serve_async(AgentlsAgent()))
    except KeyboardInterrupt:
        return 130
    return 0
