"""agentls as an ACP agent: the protocol's handlers over the same runtime the other front ends use.

One ``Runtime`` per workspace (the session's ``cwd``), shared by its ACP sessions: one checkpoint history,
one store, one set of MCP servers (the user's and the workspace's trusted ones, plus those the client
passes in ``session/new``). A prompt runs an agentls session (``turn``), a plan draft or a step run
(``plan``), or a slash command (``commands``); its events reach the client as ``session/update``
(``updates``). Questions the core asks (a command to approve, an MCP server to trust) become
``session/request_permission``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

import acp
from acp import RequestError, helpers
from acp.schema import (
    AgentCapabilities,
    AllowedOutcome,
    AuthEnvVar,
    EnvVarAuthMethod,
    Implementation,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PermissionOption,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SessionMode,
    SessionModeState,
    SetSessionModeResponse,
    ToolCallUpdate,
    Usage,
)

from agentls import __version__
from agentls.acp import commands
from agentls.acp.prompt import read_prompt
from agentls.acp.session import MODES, AcpSession, Exchange
from agentls.acp.turn import Client, resolve
from agentls.errors import AgentlsError
from agentls.questions import Question

log = logging.getLogger(__name__)


NO_KEY = ("agentls has no Anthropic API key: set ANTHROPIC_API_KEY in the environment the editor starts "
          "`agentls acp` with (or model.api_key in ~/.config/agentls/config.toml), then restart the agent")
AUTH = EnvVarAuthMethod(type="env_var", id="anthropic-api-key", name="Anthropic API key", description=NO_KEY,
                        vars=[AuthEnvVar(name="ANTHROPIC_API_KEY")])


#: The store's sessions that belong to an ACP conversation: ``<16 hex digits>-<n>`` (prompts, plan drafts, steps).
CONVERSATION = "id GLOB '" + "[0-9a-f]" * 16 + "-[0-9]*'"


def _no_key() -> RequestError:
    return RequestError(-32000, f"Authentication required: {NO_KEY}", {"message": NO_KEY})


def _modes(current: str) -> SessionModeState:
    return SessionModeState(current_mode_id=current, available_modes=[
        SessionMode(id=mode, name=mode.title(), description=text) for mode, text in MODES.items()])


class AgentlsAgent:
    """The ``acp.Agent`` protocol (duck-typed: the package routes by method name)."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.client = Client(None)
        self.sessions: dict[str, AcpSession] = {}
        self.runtimes: dict[Path, Any] = {}
        self.client_servers: dict[Path, dict[str, Any]] = {}
        self.settings: dict[Path, Any] = {}
        #: ``Runtime.frontend`` of this agent's runtimes: ``acp:<client name>`` once the client said its name.
        self.frontend = "acp"

    def on_connect(self, conn: Any) -> None:
        self.conn = conn
        self.client.conn = conn

    # -- set-up -------------------------------------------------------------------------------------------
    async def initialize(self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None,
                         **kwargs: Any) -> acp.InitializeResponse:
        fs = getattr(client_capabilities, "fs", None)
        self.client.reads = bool(fs and fs.read_text_file)
        self.client.writes = bool(fs and fs.write_text_file)
        log.info("ACP client %s (reads files: %s, writes files: %s)", getattr(client_info, "name", "?"),
                 self.client.reads, self.client.writes)
        name = getattr(client_info, "name", None)
        self.frontend = f"acp:{name}" if isinstance(name, str) and name.strip() else "acp"
        for runtime in self.runtimes.values():
            runtime.frontend = self.frontend
        return acp.InitializeResponse(
            protocol_version=acp.PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True, prompt_capabilities=PromptCapabilities(image=True, embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True, sse=True),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities())),
            agent_info=Implementation(name="agentls", title="agentls", version=__version__),
            auth_methods=[] if await asyncio.to_thread(self._has_key, Path.cwd()) else [AUTH])

    async def authenticate(self, method_id: str, **kwargs: Any) -> Any:
        if await asyncio.to_thread(self._has_key, Path.cwd()):
            return acp.AuthenticateResponse()
        raise _no_key()

    def _settings(self, root: Path) -> Any:
        from agentls.config import load_settings

        loaded = load_settings(root)
        extra = self.client_servers.get(root)
        if not extra:
            return loaded.settings
        mcp = loaded.settings.mcp.model_copy(update={"servers": {**loaded.settings.mcp.servers, **extra}})
        return loaded.settings.model_copy(update={"mcp": mcp})

    def _has_key(self, root: Path) -> bool:
        return self._settings(root).model.api_key is not None

    def _runtime(self, root: Path) -> Any:
        """The workspace's runtime; its settings are built again when a session brings MCP servers."""
        if root not in self.runtimes:
            from agentls.runtime import Runtime

            self.settings[root] = self._settings(root)
            runtime = Runtime(root, lambda: self.settings[root])
            runtime.asker = self._ask
            runtime.read_through = self._read_through
            runtime.frontend = self.frontend
            runtime.record_events()
            self.runtimes[root] = runtime
        return self.runtimes[root]

    def _root(self, cwd: str) -> Path:
        root = Path(cwd)
        if not root.is_absolute() or not root.is_dir():
            raise RequestError.invalid_params({"cwd": f"{cwd} is not an absolute path of a directory"})
        return root.resolve()

    def _add_servers(self, root: Path, servers: list[Any] | None) -> None:
        from agentls.config.mcp import McpServerSettings

        for server in servers or []:
            kind = getattr(server, "type", None)
            if kind == "acp":
                continue
            if kind in ("http", "sse"):
                entry = McpServerSettings(url=server.url, headers={h.name: h.value for h in server.headers or []})
            else:
                entry = McpServerSettings(command=server.command, args=list(server.args),
                                          env={e.name: e.value for e in server.env or []})
            self.client_servers.setdefault(root, {})[server.name] = entry
        if servers and root in self.settings:
            self.settings[root] = self._settings(root)

    def _open(self, session_id: str, root: Path) -> AcpSession:
        session = AcpSession(session_id, root, self._runtime(root), self.conn.session_update)
        session.start()
        session.runtime.events.subscribe(session.on_event, None)
        self.sessions[session_id] = session
        # After the response that tells the client the session id (an update before it would be for no session).
        asyncio.get_running_loop().call_later(0.05, session.push, commands.available())
        return session

    # -- sessions ---------------------------------------------------------------------------------------
    async def new_session(self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any) -> NewSessionResponse:
        root = self._root(cwd)
        self._add_servers(root, mcp_servers)
        session = self._open(uuid.uuid4().hex[:16], root)
        return NewSessionResponse(session_id=session.id, modes=_modes(session.mode))

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None,
                            **kwargs: Any) -> ListSessionsResponse:
        root = self._root(cwd) if cwd else Path.cwd().resolve()
        store = self._runtime(root).store()
        query = f"SELECT id, instruction, started FROM sessions WHERE {CONVERSATION} AND workspace = ? ORDER BY started"
        rows = await asyncio.to_thread(store.fetch, query, (str(root),))
        first: dict[str, tuple[str, float]] = {}
        for session_id, instruction, started in rows:
            conversation = str(session_id).rsplit("-", 1)[0]
            first.setdefault(conversation, (instruction, started))
        import datetime

        infos = [SessionInfo(session_id=sid, cwd=str(root), title=title[:80],
                             updated_at=datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat())
                 for sid, (title, started) in sorted(first.items(), key=lambda kv: -kv[1][1])]
        return ListSessionsResponse(sessions=infos)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None,
                           **kwargs: Any) -> LoadSessionResponse:
        root = self._root(cwd)
        self._add_servers(root, mcp_servers)
        runtime = self._runtime(root)
        store = runtime.store()
        query = (f"SELECT id, instruction, summary FROM sessions WHERE {CONVERSATION} AND workspace = ? AND id LIKE ? "
                 "ORDER BY started")
        rows = await asyncio.to_thread(store.fetch, query, (str(root), f"{session_id}-%"))
        if not rows:
            raise RequestError.resource_not_found(f"agentls session {session_id}")
        session = self._open(session_id, root)
        session.turns = len(rows)
        from agentls.acp.updates import updates_for
        from agentls.store.events import EventStore

        events = EventStore(store)
        window = runtime.settings.agent.context_window or 1_000_000
        for stored_id, instruction, summary in rows:
            session.push(acp.update_user_message_text(instruction))
            for event in await asyncio.to_thread(events.events, stored_id):
                for update in updates_for(event.kind, event.data, root, window):
                    session.push(update)
            session.history.append(Exchange(instruction, summary))
        await session.drain()
        return LoadSessionResponse(modes=_modes(session.mode))

    async def set_session_mode(self, session_id: str, mode_id: str, **kwargs: Any) -> SetSessionModeResponse:
        session = self._session(session_id)
        if mode_id not in MODES:
            raise RequestError.invalid_params({"modeId": f"one of {', '.join(MODES)}"})
        session.mode = mode_id
        session.push(helpers.update_current_mode(mode_id))
        await session.drain()
        return SetSessionModeResponse()

    def _session(self, session_id: str) -> AcpSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params({"sessionId": f"no session {session_id} (session/new or session/load)"})
        return session

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is not None and session.work is not None and not session.work.done():
            session.work.cancel()

    # -- prompts ----------------------------------------------------------------------------------------
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        if session.work is not None and not session.work.done():
            raise RequestError.invalid_request({"message": "this session is still working on a prompt"})
        text, buffers, files, images = await read_prompt(self.conn, self.client.reads, session, prompt)
        if commands.is_command(text.strip()) and text.strip() != "/plan run":
            session.push(helpers.update_agent_message_text(await commands.answer(session, text.strip())))
            await session.drain()
            return PromptResponse(stop_reason="end_turn")
        if session.runtime.settings.model.api_key is None:  # the workspace's settings, loaded with its runtime
            raise _no_key()
        session.work = asyncio.create_task(self._work(session, text, buffers, files, images))
        try:
            exchange, usage = await session.work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the handler itself is cancelled: the connection closed, nobody to answer
            await session.drain()
            return PromptResponse(stop_reason="cancelled")
        except AgentlsError as exc:
            session.push(helpers.update_agent_message_text(f"\n\nagentls: {exc}"))
            await session.drain()
            return PromptResponse(stop_reason="end_turn")
        finally:
            session.work = None
        session.history.append(exchange)
        await session.drain()
        return PromptResponse(stop_reason="end_turn", usage=usage)

    async def _work(self, session: AcpSession, text: str, buffers: dict[str, str], files: list[str],
                    images: list[tuple[str, str]]) -> tuple[Exchange, Usage | None]:
        from agentls.acp import plan

        if text.strip() == "/plan run":
            return await plan.run(self.client, session), None
        if session.mode == "plan":
            return await plan.draft(session, text, buffers, files), None
        from agentls.workflows.run import run_task
        from agentls.workflows.task import TaskSpec

        spec = TaskSpec(instruction=text, first_message=session.context(text), kind="acp", files_in_play=tuple(files),
                        buffers=buffers, session_id=session.next_session_id(), read_only=session.mode == "ask",
                        images=tuple(images))
        outcome = await run_task(session.runtime, spec)
        exchange = Exchange(text, outcome.result.summary)
        if not outcome.result.ok:
            session.push(helpers.update_agent_message_text(
                f"\n\nagentls: {outcome.result.error or outcome.result.status}; no files were changed"))
        await session.drain()
        await resolve(self.client, session, outcome, exchange)
        used = outcome.result.usage
        usage = Usage(input_tokens=used.total_input, output_tokens=used.output_tokens,
                      total_tokens=used.total_input + used.output_tokens,
                      cached_read_tokens=used.cache_read_input_tokens,
                      cached_write_tokens=used.cache_creation_input_tokens)
        return exchange, usage

    async def _read_through(self, agentls_session: str, relative: str) -> str | None:
        """The client's text of a workspace file (its unsaved buffer), when it reads files for us."""
        session = self.sessions.get(agentls_session.rsplit("-", 1)[0])
        if session is None or not self.client.reads:
            return None
        try:
            read = await self.conn.read_text_file(session_id=session.id, path=str(session.root / relative))
        except (RequestError, ConnectionError) as exc:
            log.debug("the client did not read %s: %s", relative, exc)
            return None
        return str(read.content)

    # -- questions from the core ------------------------------------------------------------------------
    async def _ask(self, question: Question) -> str:
        """A question of the core (approve a command, trust an MCP server) as ``session/request_permission``."""
        session_id = (question.session_id or "").rsplit("-", 1)[0]
        session = self.sessions.get(session_id)
        if session is None or self.conn is None:
            return question.default
        call = ToolCallUpdate(tool_call_id=f"question:{question.id}", title=question.text, status="pending",
                              kind="execute" if question.topic == "command" else "other",
                              content=[helpers.tool_content(helpers.text_block(question.detail))]
                              if question.detail else None)
        options = [PermissionOption(option_id=o.id, name=o.label, kind=o.kind) for o in question.options]
        try:
            response = await self.conn.request_permission(session_id=session.id, tool_call=call, options=options)
        except (RequestError, ConnectionError):
            return question.default
        outcome = response.outcome
        return outcome.option_id if isinstance(outcome, AllowedOutcome) else question.default

    async def aclose(self) -> None:
        for session in list(self.sessions.values()):
            await session.close()
        for runtime in self.runtimes.values():
            await runtime.aclose()
