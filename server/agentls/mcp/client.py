"""One running MCP server, through the official ``mcp`` SDK (the only module that imports it).

The SDK's ``Client`` must be entered and left in one task, so each server gets a supervisor task that
holds the client open until it is told to stop; any task may list and call tools through it meanwhile.
Starting (spawn, handshake, listing the tools) is bounded by ``startup_timeout_s``, a call by
``call_timeout_s``. A server whose connection closes (it crashed or exited) is restarted once; the call
that saw it die is not repeated (it may have done its work), and a second death leaves the server
``failed`` with one line saying why (the last line it wrote on stderr, kept in its log file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from agentls.mcp.sources import Resolved

log = logging.getLogger(__name__)

State = Literal["stopped", "starting", "running", "failed"]
#: Image types the Messages API takes in a tool result; others become a note.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


@dataclass(frozen=True)
class RemoteTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    media_type: str
    #: base64, as the server sent it.
    data: str


@dataclass(frozen=True)
class CallOutcome:
    parts: tuple[TextPart | ImagePart, ...]
    is_error: bool = False


class ServerUnavailable(Exception):
    """The server cannot be used (did not start, died twice): ``str`` is one line for the user."""


def _last_line(path: Path) -> str:
    with contextlib.suppress(OSError):
        with path.open("rb") as f:
            f.seek(0, 2)
            f.seek(max(f.tell() - 4096, 0))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
        if lines:
            return lines[-1][:200]
    return ""


def _parts(result: Any) -> CallOutcome:
    """An SDK ``CallToolResult`` as text and image parts."""
    import mcp_types as t

    parts: list[TextPart | ImagePart] = []
    for block in result.content or []:
        if isinstance(block, t.TextContent):
            parts.append(TextPart(block.text))
        elif isinstance(block, t.ImageContent) and block.mime_type in IMAGE_TYPES:
            parts.append(ImagePart(block.mime_type, block.data))
        elif isinstance(block, t.ImageContent | t.AudioContent):
            parts.append(TextPart(f"[{block.mime_type} content, {len(block.data) * 3 // 4} bytes, not shown]"))
        elif isinstance(block, t.ResourceLink):
            about = " ".join(x for x in (block.name, block.description or "") if x)
            parts.append(TextPart(f"resource: {block.uri}{f' ({block.mime_type})' if block.mime_type else ''} {about}"
                                  .rstrip()))
        elif isinstance(block, t.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, t.TextResourceContents):
                parts.append(TextPart(f"resource {resource.uri}:\n{resource.text}"))
            else:
                parts.append(TextPart(f"[binary resource {resource.uri} ({resource.mime_type or 'unknown type'}), "
                                      f"{len(resource.blob) * 3 // 4} bytes, not shown]"))
    if not parts and result.structured_content is not None:
        import json

        parts.append(TextPart(json.dumps(result.structured_content, ensure_ascii=False)))
    return CallOutcome(tuple(parts), bool(result.is_error))


class Connection:
    """A server's client, its supervisor task and its tools."""

    def __init__(self, resolved: Resolved, log_file: Path, startup_timeout_s: float, call_timeout_s: float) -> None:
        self.resolved = resolved
        self.name = resolved.spec.name
        self.log_file = log_file
        self.startup_timeout_s, self.call_timeout_s = startup_timeout_s, call_timeout_s
        self.state: State = "stopped"
        self.problem = ""
        self.tools: list[RemoteTool] = []
        #: The server said its tools changed: list them again before the next session.
        self.stale = False
        self._client: Any = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._restarts = 0
        self._generation = 0
        self._lock = asyncio.Lock()

    # -- the supervisor ---------------------------------------------------------------------------------
    def _transport(self, errlog: TextIO) -> Any:
        r = self.resolved
        if r.command is not None:
            from mcp import StdioServerParameters
            from mcp.client.stdio import stdio_client

            params = StdioServerParameters(command=r.command, args=list(r.args), env=r.env or None, cwd=r.cwd)
            return stdio_client(params, errlog=errlog)
        assert r.url is not None
        if r.spec.transport == "sse":
            from mcp.client.sse import sse_client

            return sse_client(r.url, headers=r.headers or None)
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        return streamable_http_client(r.url, http_client=create_mcp_http_client(headers=r.headers or None))

    async def _on_message(self, message: Any) -> None:
        import mcp_types as t

        if isinstance(message, t.ToolListChangedNotification):
            self.stale = True

    async def _supervise(self, ready: asyncio.Future[Any]) -> None:
        from mcp import Client

        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.log_file.open("a", encoding="utf-8") as errlog:
                async with Client(self._transport(errlog), read_timeout_seconds=self.call_timeout_s,
                                  message_handler=self._on_message) as client:
                    if not ready.done():
                        ready.set_result(client)
                    await self._stop.wait()
        except BaseException as exc:  # the SDK raises exception groups: all of them mean "not running"
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.info("MCP server %s stopped: %r", self.name, exc)
        finally:
            self._client = None

    def _why(self, exc: BaseException) -> str:
        if isinstance(exc, FileNotFoundError) or "No such file" in str(exc):
            return f"its command was not found: {self.resolved.command}"
        if isinstance(exc, TimeoutError | asyncio.TimeoutError):
            return f"it did not start within {self.startup_timeout_s:g} s (mcp.startup_timeout_s)"
        said = _last_line(self.log_file)
        inner = exc
        while isinstance(inner, BaseExceptionGroup) and inner.exceptions:
            inner = inner.exceptions[0]
        return f"it stopped while starting{f': {said}' if said else f' ({inner})'}"

    async def start(self) -> list[RemoteTool]:
        """Start the server and list its tools (raises ``ServerUnavailable`` with one line)."""
        async with self._lock:
            if self.state == "running" and not self.stale:
                return self.tools
            if self.state == "failed":
                raise ServerUnavailable(self.problem)
            if self.state != "running":
                await self._spawn()
            await self._list()
            return self.tools

    async def _spawn(self) -> None:
        self.state, self._stop = "starting", asyncio.Event()
        self._generation += 1
        ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(ready), name=f"mcp:{self.name}")
        try:
            self._client = await asyncio.wait_for(asyncio.shield(ready), self.startup_timeout_s)
        except BaseException as exc:
            await self._halt()
            self.state, self.problem = "failed", f"MCP server '{self.name}' is not available: {self._why(exc)}"
            log.warning("%s (%r)", self.problem, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise ServerUnavailable(self.problem) from None
        self.state = "running"

    async def _list(self) -> None:
        tools: list[RemoteTool] = []
        cursor: str | None = None
        try:
            async with asyncio.timeout(self.startup_timeout_s):
                while True:
                    page = await self._client.list_tools(cursor=cursor, cache_mode="refresh")
                    for tool in page.tools:
                        hints = tool.annotations
                        tools.append(RemoteTool(tool.name, tool.description or tool.title or "",
                                                dict(tool.input_schema or {}),
                                                bool(hints is not None and hints.read_only_hint)))
                    cursor = page.next_cursor
                    if not cursor:
                        break
        except Exception as exc:
            await self._halt()
            self.state = "failed"
            self.problem = f"MCP server '{self.name}' is not available: listing its tools failed: {exc}"
            raise ServerUnavailable(self.problem) from None
        self.tools, self.stale = tools, False

    async def _halt(self) -> None:
        self._stop.set()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and not supervisor.done():
            # The SDK closes stdin, then SIGTERM, then SIGKILL (about 4 s at most); cancel if longer.
            done, _ = await asyncio.wait({supervisor}, timeout=6)
            if not done:
                supervisor.cancel()
                await asyncio.gather(supervisor, return_exceptions=True)
        self._client = None

    # -- calls ------------------------------------------------------------------------------------------
    async def call(self, tool: str, arguments: dict[str, Any]) -> CallOutcome:
        """Call ``tool``; failures the model can act on come back as ``is_error`` outcomes."""
        from mcp.shared.exceptions import MCPError
        from mcp_types.jsonrpc import CONNECTION_CLOSED, REQUEST_TIMEOUT

        client, generation = self._client, self._generation
        if self.state != "running" or client is None:
            return CallOutcome((TextPart(self.problem or f"MCP server '{self.name}' is not running."),), True)
        try:
            result = await client.call_tool(tool, arguments, read_timeout_seconds=self.call_timeout_s)
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                return CallOutcome((TextPart(f"{tool} on MCP server '{self.name}' did not answer within "
                                             f"{self.call_timeout_s:g} s (mcp.call_timeout_s)."),), True)
            if exc.code == CONNECTION_CLOSED:
                return CallOutcome((TextPart(await self._died(tool, generation)),), True)
            return CallOutcome((TextPart(f"MCP server '{self.name}': {exc.error.message}"),), True)
        return _parts(result)

    async def _died(self, tool: str, generation: int) -> str:
        said = _last_line(self.log_file)
        why = f" ({said})" if said else ""
        async with self._lock:
            if generation != self._generation:  # another call saw it die and restarted it already
                return f"MCP server '{self.name}' stopped during {tool}{why}; the call was not repeated."
            await self._halt()
            if self._restarts >= 1:
                self.state = "failed"
                self.problem = f"MCP server '{self.name}' stopped again{why}; its tools are not available"
                log.warning("%s", self.problem)
                return self.problem + "."
            self._restarts += 1
            log.warning("MCP server %s stopped during %s%s; restarting it once", self.name, tool, why)
            try:
                await self._spawn()
                await self._list()
            except ServerUnavailable as exc:
                return f"MCP server '{self.name}' stopped during {tool}{why} and could not be restarted: {exc}"
        return (f"MCP server '{self.name}' stopped during {tool}{why}. It was restarted; the call was not "
                "repeated (it may have done part of its work).")

    async def aclose(self) -> None:
        async with self._lock:
            await self._halt()
            if self.state != "failed":
                self.state = "stopped"
