"""Agent sessions started from the editor: each runs as an asyncio task with ``$/progress``.

This is the LSP side of the task workflow: it snapshots the open buffers, starts the session,
reports progress, and hands the finished session's overlay to the review service as proposals.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from agentls.errors import AgentlsError, InvalidRequest, OutsideWorkspace
from agentls.lsp.progress import SessionProgress
from agentls.workflows.inline_edit import EditTarget, edit_prompt

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoints
    from agentls.lsp.server import AgentLanguageServer
    from agentls.providers.base import Provider
    from agentls.store.audit import AuditLog
    from agentls.store.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """An open document when the session started."""

    uri: str
    version: int
    text: str


@dataclass(frozen=True)
class SessionRequest:
    kind: str  # "edit" | "fix" | "task"
    title: str
    instruction: str
    first_message: str
    files_in_play: list[str]
    #: For an edit: its target, so the first message can carry the context engine's parts.
    edit: EditTarget | None = None


class AgentRunner:
    def __init__(self, server: AgentLanguageServer) -> None:
        self.server = server
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._provider: Provider | None = None
        self._provider_key = ""
        self._store: Store | None = None
        self._audit: AuditLog | None = None
        self._checkpoints: Checkpoints | None = None
        self._checkpoints_lock = asyncio.Lock()
        self._baseline_started = False
        self._retired: list[Provider] = []
        self._background: set[asyncio.Task[None]] = set()

    # -- shared resources, created on first use --------------------------------------------
    def provider(self) -> Provider:
        model = self.server.state.settings.model
        # SecretStr dumps as "**********": fold in a digest of the key so a new key means a new client.
        secret = model.api_key.get_secret_value() if model.api_key else ""
        key = model.model_dump_json() + hashlib.sha256(secret.encode()).hexdigest()
        if self._provider is None or key != self._provider_key:
            from agentls.workflows.task import make_provider

            if self._provider is not None:
                self._retired.append(self._provider)  # a running session may still stream from it
            self._provider, self._provider_key = make_provider(model), key
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

    async def checkpoints(self) -> Checkpoints:
        """The workspace's checkpoint history (opened in a thread: it imports git and checks the repo)."""
        async with self._checkpoints_lock:
            if self._checkpoints is None:
                from agentls.workflows.checkpointing import open_checkpoints

                root, settings, store = self.root, self.server.state.settings.checkpoints, self.store()
                self._checkpoints = await asyncio.to_thread(open_checkpoints, root, settings, store)
            return self._checkpoints

    async def start_baseline(self) -> None:
        """Snapshot the whole tree in the background, so later checkpoints never wait for a scan."""
        if self.server.state.root is None or not self.server.state.settings.checkpoints.enabled:
            return
        try:
            checkpoints = await self.checkpoints()
            checkpoints.start_baseline()
        except AgentlsError as exc:
            log.warning("checkpoints unavailable: %s", exc)

    async def checkpoint_before_apply(self, paths: list[str], trigger: str) -> None:
        """The accept path's guard: no checkpoint, no write (``CheckpointError`` propagates)."""
        if not self.server.state.settings.checkpoints.enabled:
            return
        from agentls.workflows.checkpointing import guard

        checkpoints = await self.checkpoints()
        await asyncio.to_thread(guard, checkpoints, paths, trigger=trigger,
                                summary=f"before accepting the agent's change to {', '.join(paths)}")

    # -- paths -------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        root = self.server.state.root
        if root is None:
            raise InvalidRequest("agentls needs a workspace folder: open a folder or project first")
        return root.resolve()

    def relative(self, uri: str) -> str:
        path = to_fs_path(uri)
        if not path:
            raise InvalidRequest(f"not a file URI: {uri}")
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            raise OutsideWorkspace(f"{path} is outside the workspace {self.root}") from None

    def uri_for(self, rel: str) -> str:
        return from_fs_path(str(self.root / rel)) or (self.root / rel).as_uri()

    def snapshots(self) -> dict[str, Snapshot]:
        """Open documents inside the workspace, by relative path."""
        found = {}
        for uri, doc in self.server.state.documents.items():
            try:
                found[self.relative(uri)] = Snapshot(uri, doc.version, doc.text)
            except AgentlsError:
                continue
        return found

    # -- sessions ------------------------------------------------------------------------------
    def start(self, request: SessionRequest) -> str:
        session_id = uuid.uuid4().hex[:12]
        task = asyncio.get_running_loop().create_task(self._run(session_id, request))
        self.tasks[session_id] = task
        task.add_done_callback(lambda _: self._finished(session_id))
        return session_id

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, keeping a reference so it is not collected mid-way."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _finished(self, session_id: str) -> None:
        self.tasks.pop(session_id, None)
        if not self.tasks and self._retired:  # no session can still be using a retired client
            retired, self._retired = self._retired, []
            for provider in retired:
                self._spawn(provider.aclose())

    def cancel(self, session_id: str) -> bool:
        task = self.tasks.get(session_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _run(self, session_id: str, request: SessionRequest) -> None:
        from agentls.workflows.task import run_task

        progress = SessionProgress(self.server, request.title)
        progress.task = self.tasks.get(session_id) or asyncio.current_task()
        snapshots = self.snapshots()
        buffers = {rel: snap.text for rel, snap in snapshots.items()}
        if not self._baseline_started:
            self._baseline_started = True
            self._spawn(self.start_baseline())
        try:
            await progress.begin("starting…")
            settings = self.server.state.settings
            first_message = await self._first_message(request)
            outcome = await run_task(
                root=self.root, instruction=request.instruction, settings=settings, provider=self.provider(),
                store=self.store(), audit=self.audit(), on_event=progress.event,
                files_in_play=request.files_in_play, buffers=buffers, first_message=first_message,
                kind=request.kind, session_id=session_id,
            )
            result = outcome.result
            if not result.ok:
                progress.end(f"failed: {result.error}")
                self.server.notify_user(result.error or f"the agent session ended: {result.status}")
                return
            count = await self.server.review.present(session_id, outcome, snapshots)
            if unsaved := [f"{o.name} ({o.note})" for o in outcome.outputs if o.path is None]:
                self.server.notify_user(f"code execution produced files that were not proposed: {', '.join(unsaved)}",
                                        types.MessageType.Info)
            if outcome.notes:
                self._spawn(self._offer_notes(outcome.notes))
        except asyncio.CancelledError:
            self.server.review.drop_session(session_id)  # a cancelled session leaves no proposal
            progress.end("cancelled")
            log.info("session %s cancelled", session_id)
            raise
        except AgentlsError as exc:
            progress.end(f"failed: {exc}")
            self.server.notify_user(str(exc))
            return
        except Exception as exc:
            log.exception("session %s crashed", session_id)
            progress.end("failed")
            self.server.notify_user(f"the agent session failed: {exc} (details in the log)")
            return
        if count == 0:
            progress.end(result.summary or "no changes")
            self.server.notify_user(f"no changes: {result.summary or 'the agent changed nothing'}",
                                    types.MessageType.Info)
        else:
            progress.end(result.summary or f"{count} file(s) with proposed changes")

    async def _offer_notes(self, notes: list[str]) -> None:
        """Ask the user about each memory note the agent proposed; only an accepted one is saved."""
        from agentls.agent.memory import NOTES_FILE, append_note

        for note in notes:
            try:
                choice = await self.server.window_show_message_request_async(types.ShowMessageRequestParams(
                    type=types.MessageType.Info, message=f"agentls: remember this for the project? “{note}”",
                    actions=[types.MessageActionItem("Remember"), types.MessageActionItem("Dismiss")]))
            except Exception:
                log.info("the client could not ask about a memory note; not saved", exc_info=True)
                return
            if choice is not None and choice.title == "Remember":
                try:
                    await asyncio.to_thread(append_note, self.root, note)
                except OSError as exc:
                    self.server.notify_user(f"could not save the note to {NOTES_FILE}: {exc}")

    async def _first_message(self, request: SessionRequest) -> str:
        """The request's first message, with the context engine's parts added (never fails the session)."""
        context = self.server.context
        if request.edit is not None:
            from agentls.context.assemble import EditRequest

            target = request.edit
            found = await context.edit_context(EditRequest(target.path, target.text, target.start, target.end,
                                                           instruction=target.instruction))
            return edit_prompt(target, found.for_prompt() if found is not None else "")
        if request.kind == "task":
            repo_map = await context.task_map(request.instruction, request.files_in_play)
            if repo_map:
                return (f"{request.first_message}\n\n<repo_map description=\"the repository's most relevant "
                        f"definitions for this task, ranked\">\n{repo_map.rstrip()}\n</repo_map>")
        return request.first_message

    async def shutdown(self) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # let them record their end first
        for provider in [*self._retired, *([self._provider] if self._provider else [])]:
            await provider.aclose()
        if self._checkpoints is not None:
            await asyncio.to_thread(self._checkpoints.close)
        if self._store is not None:
            self._store.close()
