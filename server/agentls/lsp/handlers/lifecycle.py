"""initialize / initialized / didChangeConfiguration / shutdown.

``initialize`` only records what the client sent; settings are loaded on ``initialized`` so the
initialize response never waits for pydantic or a config file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from agentls.lsp.server import AgentLanguageServer

if TYPE_CHECKING:
    from agentls.config import LoadedSettings

log = logging.getLogger(__name__)


def _root(params: types.InitializeParams) -> Path | None:
    uri = None
    if params.workspace_folders:
        uri = params.workspace_folders[0].uri
    elif params.root_uri:
        uri = params.root_uri
    if uri:
        path = to_fs_path(uri)
        return Path(path) if path else None
    return Path(params.root_path) if params.root_path else None


def editor_section(settings: Any) -> dict[str, Any]:
    """Our part of an editor's settings: ``{"agentls": {...}}`` or the object itself."""
    if not isinstance(settings, Mapping):
        return {}
    inner = settings.get("agentls", settings)
    return dict(inner) if isinstance(inner, Mapping) else {}


async def reload_settings(ls: AgentLanguageServer) -> None:
    """Read the settings (in a thread: pydantic and the config files are no work for the loop), then
    apply them."""
    from agentls.logs import apply_settings

    state = ls.state
    state.loaded = await asyncio.to_thread(_load, state.root, dict(state.editor_settings))
    ls.settings_loaded.set()
    for warning in state.loaded.warnings:
        ls.warn_once(f"settings: {warning}")
    apply_settings(state.loaded.settings)
    ls.runtime.settings_changed()
    from agentls.lsp.config_trust import offer_trust

    offer_trust(ls, state.loaded.untrusted, lambda: reload_settings(ls))
    if state.diagnostics is not None:
        state.diagnostics.settings_changed()


def _load(root: Path | None, editor: dict[str, Any]) -> LoadedSettings:
    from agentls.config import load_settings

    return load_settings(root, editor)


def register(server: AgentLanguageServer) -> None:
    def watch_stalls(stall_ms: float) -> None:
        if stall_ms > 0 and server.stall_watch is None:
            from agentls.runtime.stalls import StallWatch

            server.stall_watch = StallWatch(asyncio.get_running_loop(), stall_ms).start()

    @server.feature(types.INITIALIZE)
    async def initialize(params: types.InitializeParams) -> None:
        # The environment's setting starts the watch before the settings load (which it may catch).
        with contextlib.suppress(ValueError):
            watch_stalls(float(os.environ.get("AGENTLS_DEBUG__LOOP_STALL_MS", "0")))
        from agentls.lsp.client import ClientFeatures

        server.client_features = ClientFeatures.of(params.capabilities)
        # The editor's name, recorded with each session (the dashboard shows it; the agent host gets it too).
        name = (params.client_info.name if params.client_info else "").lower()
        server.runtime.frontend = ("vscode" if "code" in name else "neovim" if "neovim" in name or "nvim" in name
                                   else "editor")
        state = server.state
        state.root = _root(params)
        from agentls.lsp.init_options import InitOptions

        options, problems = InitOptions.parse(params.initialization_options)
        state.inline_proposals = options.inline_proposals
        state.session_status = options.session_status
        state.editor_settings = options.settings
        for problem in problems:
            server.warn_once(problem)
        log.info("initialize: root=%s inlineProposals=%s", state.root, state.inline_proposals)
        pid = params.process_id
        if pid is not None:
            from agentls.lsp.editor_process import watch

            watch(pid, lambda: editor_gone(server, pid), server.spawn)

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        await reload_settings(server)
        watch_stalls(server.state.settings.debug.loop_stall_ms)
        # Sessions run in the agent host, a process of its own: start it now, so that its start-up (the
        # model SDK takes over a second to import) overlaps the editor's and never touches this process.
        if server.runtime.host is not None and server.state.root is not None:
            server.runtime.host.start()
        server.context.start()  # the symbol index builds in a child process, reporting $/progress
        if server.state.root is not None:
            from agentls.write_transaction import recover

            root = server.state.root
            interrupted = await asyncio.to_thread(lambda: recover(str(root.resolve())))
            if interrupted:
                server.warn_once(interrupted)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        section = editor_section(params.settings)
        if section or params.settings in (None, {}):
            server.state.editor_settings = section
        await reload_settings(server)

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: None) -> None:
        await stop_work(server)


async def stop_work(server: AgentLanguageServer) -> None:
    """What ``shutdown`` does: stop the diagnostics, the dashboard, the plans, the sessions and the context
    engine."""
    if server.state.diagnostics is not None:
        server.state.diagnostics.close()
    from agentls.lsp.dashboard import stop as stop_dashboard

    await stop_dashboard(server)
    from agentls.lsp.handlers.plan_commands import shutdown_plans

    await shutdown_plans(server)  # before the agent closes the store the plans record into
    await server.agent.shutdown()
    server.context.close()


async def editor_gone(server: AgentLanguageServer, pid: int) -> None:
    """The editor's process ended without ``shutdown``/``exit``: stop the work (bounded), then the process."""
    log.warning("the editor's process (%d) has exited; stopping", pid)
    try:
        await asyncio.wait_for(stop_work(server), 10)
    except Exception:
        log.exception("stopping after the editor exited")
    logging.shutdown()
    os._exit(0)
