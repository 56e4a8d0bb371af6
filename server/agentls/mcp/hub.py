"""The MCP servers of one workspace, shared by its sessions: which may start, started lazily, and their tools.

A session asks ``tools()`` when it begins. The servers are read from their layers (``sources``) each time
(a changed ``.mcp.json`` is seen at the next session); a server declared by a workspace file and not yet
trusted is asked about once per process (``mcp_server`` question; the cautious default is "not now"),
and otherwise named once in a notice. Trusted, enabled servers start together, each bounded by
``mcp.startup_timeout_s``; one that fails is named once and its tools are missing, nothing else waits.
A server whose definition changed is stopped and started again. ``aclose`` stops them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentls.mcp import sources, trust
from agentls.mcp.client import Connection, ServerUnavailable
from agentls.mcp.tools import McpTool, repaired_schema
from agentls.questions import Asker, Option, Question

if TYPE_CHECKING:
    from agentls.config import Settings

log = logging.getLogger(__name__)

TRUST, NOT_NOW = "trust", "not_now"


@dataclass(frozen=True)
class ServerState:
    """One server for ``agentls mcp list``: where it was declared, whether it runs, its tools."""

    spec: sources.ServerSpec
    state: str
    detail: str = ""
    tools: tuple[str, ...] = ()


def trust_question(spec: sources.ServerSpec, session_id: str | None = None) -> Question:
    return Question(
        "mcp_server",
        f"The workspace file {spec.origin} declares the MCP server '{spec.name}', which runs "
        f"`{spec.describe()}`. Trust it and start it?",
        (Option(TRUST, "Trust and start", "allow_always", "t"), Option(NOT_NOW, "Not now", "reject_once", "n")),
        default=NOT_NOW, session_id=session_id,
        detail="Only trust servers you would run yourself: a server runs with your permissions. "
               "Any change to its definition asks again.",
        subject={"server": spec.name, "origin": spec.origin})


class McpHub:
    """See the module docstring. ``root`` and ``settings`` are read at each call (the editor may change them)."""

    def __init__(self, root: Callable[[], Path | None], settings: Callable[[], Settings], log_dir: Path) -> None:
        self._root, self._settings, self._log_dir = root, settings, log_dir
        self._connections: dict[str, tuple[str, Connection]] = {}
        self._asked: set[tuple[str, str]] = set()
        self._told: set[str] = set()
        self._lock = asyncio.Lock()

    def _tell(self, line: str, notices: list[str]) -> None:
        if line not in self._told:
            self._told.add(line)
            log.warning("%s", line)
            notices.append(line)

    async def _may_start(self, spec: sources.ServerSpec, root: Path | None, ask: Asker | None,
                         session_id: str | None, notices: list[str]) -> bool:
        if await asyncio.to_thread(trust.is_trusted, root, spec):
            return True
        key = (spec.name, spec.digest())
        if ask is not None and root is not None and key not in self._asked:
            self._asked.add(key)
            if await ask(trust_question(spec, session_id)) == TRUST:
                await asyncio.to_thread(trust.trust, root, spec)
                return True
        self._tell(f"MCP server '{spec.name}' ({spec.origin}) is not started until you trust it: "
                   f"`agentls mcp trust {spec.name}` in the workspace", notices)
        return False

    async def tools(self, ask: Asker | None = None, session_id: str | None = None) -> tuple[list[McpTool], list[str]]:
        """The tools of every server that may run, and the lines to show the user (each once per process)."""
        settings = self._settings()
        root = self._root()
        specs, problems = await asyncio.to_thread(sources.discover, root, settings.mcp.servers)
        notices: list[str] = []
        for problem in problems:
            self._tell(problem, notices)
        wanted: dict[str, sources.Resolved] = {}
        for spec in specs:
            if not spec.enabled:
                continue
            if spec.problem is not None:
                self._tell(f"MCP server '{spec.name}' ({spec.origin}) is ignored: {spec.problem}", notices)
                continue
            if not await self._may_start(spec, root, ask, session_id, notices):
                continue
            try:
                wanted[spec.name] = sources.resolve(spec, root)
            except sources.Unresolvable as exc:
                self._tell(f"MCP server '{spec.name}' ({spec.origin}) is not started: it {exc}", notices)
        async with self._lock:
            connections = await self._connect(wanted, settings)
        results = await asyncio.gather(*(c.start() for c in connections), return_exceptions=True)
        tools: list[McpTool] = []
        names: set[str] = set()
        for connection, result in zip(connections, results, strict=True):
            if isinstance(result, ServerUnavailable):
                self._tell(str(result), notices)
                continue
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                self._tell(f"MCP server '{connection.name}' is not available: {result}", notices)
                continue
            for remote in result:
                schema = repaired_schema(remote.input_schema)
                tool = McpTool(connection, remote, schema or {}, settings.mcp.allow,
                               settings.agent.max_tool_result_chars)
                if schema is None:
                    log.warning("MCP tool %s of %s left out: its input schema is not valid JSON Schema",
                                remote.name, connection.name)
                elif tool.name in names:
                    log.warning("MCP tool %s left out: another tool has the same name", tool.name)
                else:
                    names.add(tool.name)
                    tools.append(tool)
        return tools, notices

    async def _connect(self, wanted: dict[str, sources.Resolved], settings: Settings) -> list[Connection]:
        """The connections for ``wanted``: kept when their definition is the same, else replaced."""
        stale = [name for name, (key, _) in self._connections.items()
                 if name not in wanted or key != _key(wanted[name])]
        for name in stale:
            _, old = self._connections.pop(name)
            await old.aclose()
        for name, resolved in wanted.items():
            if name not in self._connections:
                connection = Connection(resolved, self._log_dir / f"{_file_name(name)}.log",
                                        settings.mcp.startup_timeout_s, settings.mcp.call_timeout_s)
                self._connections[name] = (_key(resolved), connection)
        return [self._connections[name][1] for name in wanted]

    async def states(self, ask: Asker | None = None) -> list[ServerState]:
        """Every declared server, started when it may be (``agentls mcp list``)."""
        await self.tools(ask)
        settings, root = self._settings(), self._root()
        specs, _ = await asyncio.to_thread(sources.discover, root, settings.mcp.servers)
        out: list[ServerState] = []
        for spec in specs:
            current = self._connections.get(spec.name)
            if not spec.enabled:
                out.append(ServerState(spec, "disabled"))
            elif spec.problem is not None:
                out.append(ServerState(spec, "invalid", spec.problem))
            elif not await asyncio.to_thread(trust.is_trusted, root, spec):
                out.append(ServerState(spec, "waiting for trust", f"agentls mcp trust {spec.name}"))
            elif current is None:
                out.append(ServerState(spec, "not started", "a variable it needs is not set"))
            else:
                connection = current[1]
                out.append(ServerState(spec, connection.state, connection.problem,
                                       tuple(t.name for t in connection.tools)))
        return out

    async def aclose(self) -> None:
        connections, self._connections = [c for _, c in self._connections.values()], {}
        await asyncio.gather(*(c.aclose() for c in connections), return_exceptions=True)


def _key(resolved: sources.Resolved) -> str:
    return repr((resolved.command, resolved.args, sorted(resolved.env.items()), resolved.cwd, resolved.url,
                 sorted(resolved.headers.items()), resolved.spec.transport))


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "server"
