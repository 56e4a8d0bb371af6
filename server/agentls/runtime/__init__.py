"""The core as a front end uses it: one ``Runtime`` per front-end process, built the same way by all.

It owns what sessions share: the workspace root, the current settings, the model provider, the
store, the audit log and the workspace's one checkpoint history, each made on first use. A front end
whose own event loop must answer an editor at once (the language server) asks for ``host=True``:
sessions then run in the agent host, a child process with a runtime of its own (``remote``), and
this one keeps only what is cheap. Workflows take the runtime instead of long parameter lists and
send their sessions to ``runtime.host`` when there is one; front ends build it with ``Runtime(...)``
and close it with ``aclose``.

Thread-safety: the store and the audit log lock themselves; the checkpoint history is opened under a
lock and used from worker threads; the provider is used only on the loop that runs sessions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agentls.agent.events import EventBus, QuestionAnswered
from agentls.errors import InvalidRequest
from agentls.questions import Asker, Question, take_default
from agentls.runtime.remote import HostClient, RemoteCheckpoints

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoints
    from agentls.config import Settings
    from agentls.mcp.hub import McpHub
    from agentls.providers.base import Provider
    from agentls.runtime.recorder import EventRecorder
    from agentls.store.audit import AuditLog
    from agentls.store.db import Store

log = logging.getLogger(__name__)

NO_ROOT = "agentls needs a workspace folder: open a folder or project first"


class Runtime:
    """See the module docstring. ``root`` and ``settings`` are read each time (the editor's change);
    ``provider``, ``store``, ``audit`` and ``checkpoints`` may be given (tests, benchmarks): they are then
    used as they are and not closed here."""

    def __init__(
        self,
        root: Path | Callable[[], Path | None] | None,
        settings: Settings | Callable[[], Settings],
        *,
        host: bool = False,
        provider: Provider | None = None,
        store: Store | None = None,
        audit: AuditLog | None = None,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self._root = root if callable(root) else (lambda: root)
        self._settings = settings if callable(settings) else (lambda: settings)
        #: How this front end answers questions (``agentls.questions``); set by the front end.
        self.asker: Asker = take_default
        #: Where sessions run when not in this process (the language server's agent host).
        self.host = HostClient(self._root, self._settings, self.answer, lambda: self.frontend) if host else None
        self._given_provider = provider
        self._provider: Provider | None = None
        self._provider_key = ""
        self._retired: list[Provider] = []  # replaced clients; closed with the runtime
        self._store, self._owns_store = store, store is None
        self._audit = audit
        self._checkpoints, self._owns_checkpoints = checkpoints, checkpoints is None
        self._checkpoints_lock = threading.Lock()
        #: Every session event of this process (``agent.events``): front ends subscribe here.
        self.events = EventBus()
        self._mcp: McpHub | None = None
        #: (session id, workspace path) -> the editor's text of that file, for front ends whose editor serves
        #: files (ACP); sessions run in this process then read through it (``ToolContext.read_through``).
        self.read_through: Callable[[str, str], Awaitable[str | None]] | None = None
        #: Which front end runs this process's sessions (recorded with each; the dashboard shows it):
        #: ``cli``, ``editor``/``vscode``/``neovim`` (the language server and its agent host), ``acp[:client]``.
        self.frontend = "cli"
        self._recorder: EventRecorder | None = None
        self._unsubscribe_recorder: Callable[[], None] | None = None

    # -- what sessions share --------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        root = self._root()
        if root is None:
            raise InvalidRequest(NO_ROOT)
        return root.resolve()

    @property
    def has_root(self) -> bool:
        return self._root() is not None

    @property
    def settings(self) -> Settings:
        return self._settings()

    def provider(self) -> Provider:
        """The model provider for the current settings; a new one when the model settings change (the old
        one, which a running session may still stream from, is closed with the runtime)."""
        if self._given_provider is not None:
            return self._given_provider
        model = self.settings.model
        # SecretStr dumps as "**********": fold in a digest of the key so a new key means a new client.
        secret = model.api_key.get_secret_value() if model.api_key else ""
        key = model.model_dump_json() + hashlib.sha256(secret.encode()).hexdigest()
        if self._provider is None or key != self._provider_key:
            from agentls.providers.anthropic import AnthropicProvider  # the SDK: imported on first use

            if self._provider is not None:
                self._retired.append(self._provider)
            self._provider, self._provider_key = AnthropicProvider(model), key
        return self._provider

    def store(self) -> Store:
        if self._store is None:
            from agentls.paths import store_path
            from agentls.store.db import Store

            self._store = Store(store_path())
        return self._store

    def audit(self) -> AuditLog:
        if self._audit is None:
            from agentls.paths import audit_path
            from agentls.store.audit import AuditLog

            self._audit = AuditLog(audit_path())
        return self._audit

    def checkpoints_now(self) -> Checkpoints:
        """The workspace's checkpoint history, opened on first use (blocking: it imports git and checks the
        repository; call it from a worker thread, or use ``checkpoints``)."""
        with self._checkpoints_lock:
            if self._checkpoints is None:
                from agentls.checkpoints import Checkpoints  # GitPython: imported on first use only
                from agentls.paths import data_dir

                settings = self.settings.checkpoints
                self._checkpoints = Checkpoints(self.root, data_dir=data_dir(), store=self.store(),
                                                max_file_bytes=settings.max_file_bytes, retention=settings.retention,
                                                deny=self.settings.tools.deny)
            return self._checkpoints

    def mcp(self) -> McpHub:
        """The workspace's MCP servers, shared by its sessions (none start until a session asks)."""
        if self._mcp is None:
            from agentls.mcp.hub import McpHub
            from agentls.paths import data_dir

            self._mcp = McpHub(self._root, self._settings, data_dir() / "mcp-logs")
        return self._mcp

    async def checkpoints(self) -> Checkpoints:
        """The checkpoint history, for use from worker threads: the agent host's, when there is one."""
        if self.host is not None:
            self.host.start()
            # Duck-typed: the methods the server calls, with the real object's signatures.
            return RemoteCheckpoints(self.host, asyncio.get_running_loop())  # type: ignore[return-value]
        return await asyncio.to_thread(self.checkpoints_now)

    async def answer(self, question: Question) -> str:
        """The front end's answer to ``question`` (its default when the front end fails to ask)."""
        try:
            return question.valid(await self.asker(question))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not ask the user %r; taking %r", question.text, question.default, exc_info=True)
            return question.default

    async def ask(self, question: Question) -> str:
        """Ask the user (through whichever front end answers for this runtime); the answer is a session event."""
        answer = await self.answer(question)
        if question.session_id:
            self.events.publish(question.session_id, QuestionAnswered(question.topic, question.text, answer))
        return answer

    def record_events(self) -> None:
        """Write this process's session events to the store (where sessions run: the host, a CLI)."""
        from agentls.runtime.recorder import EventRecorder
        from agentls.store.events import EventStore

        if self._recorder is None:
            retention = self.settings.store.events_retention_days
            self._recorder = EventRecorder(EventStore(self.store()), retention_days=retention)
            self._unsubscribe_recorder = self.events.subscribe(self._recorder)

    def settings_changed(self) -> None:
        """Tell the agent host (if any) about new settings or a new workspace root."""
        if self.host is not None:
            self.host.send_settings()

    async def _close_provider(self, provider: Provider) -> None:
        try:
            await provider.aclose()
        except Exception:
            log.debug("closing a model client failed", exc_info=True)

    async def close_providers(self) -> None:
        """Close the model clients this runtime made, on the loop that used them."""
        providers, self._retired = [*self._retired, *([self._provider] if self._provider else [])], []
        self._provider = None
        for provider in providers:
            await self._close_provider(provider)

    def close(self) -> None:
        """Write the recorded events still queued, close the checkpoint history and the store this runtime
        opened (blocking)."""
        if self._recorder is not None:
            if self._unsubscribe_recorder is not None:
                self._unsubscribe_recorder()
            self._recorder.close()
            self._recorder = self._unsubscribe_recorder = None
        if self._checkpoints is not None and self._owns_checkpoints:
            self._checkpoints.close()
            self._checkpoints = None
        if self._store is not None and self._owns_store:
            self._store.close()
            self._store = None

    async def aclose(self) -> None:
        """Everything: the agent host, the model clients, then (in a thread) the checkpoint history and the
        store."""
        if self.host is not None:
            await self.host.aclose()
        if self._mcp is not None:
            await self._mcp.aclose()
        await self.close_providers()
        await asyncio.to_thread(self.close)
