"""Agent sessions started from the editor: each runs as an asyncio task with ``$/progress``.

This is the LSP side of the task workflow: it snapshots the open buffers, starts the session,
reports progress, and hands the finished session's overlay to the review service as proposals.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from agentls.errors import AgentlsError, InvalidRequest, OutsideWorkspace
from agentls.lsp.progress import SessionProgress, proposed_changes
from agentls.workflows.inline_edit import EditTarget, edit_prompt

if TYPE_CHECKING:
    from agentls.lsp.server import AgentLanguageServer
    from agentls.runtime import Runtime

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
    """Sessions started from the editor, over the server's runtime (``ls.runtime``: provider, store,
    audit log, the workspace's checkpoint history, the worker loop the sessions run on)."""

    def __init__(self, server: AgentLanguageServer) -> None:
        self.server = server
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._baseline_started = False
        self._background: set[asyncio.Task[None]] = set()

    @property
    def runtime(self) -> Runtime:
        return self.server.runtime

    async def start_baseline(self) -> None:
        """Snapshot the whole tree in the background, so later checkpoints never wait for a scan."""
        if not self.runtime.has_root or not self.server.state.settings.checkpoints.enabled:
            return
        try:
            checkpoints = await self.runtime.checkpoints()
            checkpoints.start_baseline()
        except AgentlsError as exc:
            log.warning("checkpoints unavailable: %s", exc)

    # -- paths -------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.runtime.root

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

    def cancel(self, session_id: str) -> bool:
        task = self.tasks.get(session_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _run(self, session_id: str, request: SessionRequest) -> None:
        from agentls.workflows.run import run_task
        from agentls.workflows.task import TaskSpec

        progress = SessionProgress(self.server, request.title, session_id)
        progress.task = self.tasks.get(session_id) or asyncio.current_task()
        snapshots = self.snapshots()
        buffers = {rel: snap.text for rel, snap in snapshots.items()}
        if not self._baseline_started:
            self._baseline_started = True
            self._spawn(self.start_baseline())
        try:
            await progress.begin("starting…")
            first_message = await self._first_message(request)
            spec = TaskSpec(instruction=request.instruction, first_message=first_message, kind=request.kind,
                            files_in_play=tuple(request.files_in_play), buffers=buffers, session_id=session_id)
            unsubscribe = self.runtime.events.subscribe(lambda item: progress.event(item.event), session_id)
            try:
                outcome = await run_task(self.runtime, spec)
            finally:
                unsubscribe()
            result = outcome.result
            if not result.ok:
                progress.fail(result.error or f"the agent session ended: {result.status}")
                return
            earlier = {p.id for p in self.server.review.book.all()}
            count = await self.server.review.present(session_id, outcome, snapshots)
            changes = proposed_changes(p for p in self.server.review.book.all() if p.id not in earlier)
            if unsaved := [f"{o.name} ({o.note})" for o in outcome.outputs if o.path is None]:
                self.server.notify_user(f"code execution produced files that were not proposed: {', '.join(unsaved)}",
                                        types.MessageType.Info)
            if outcome.notes:
                self._spawn(self._offer_notes(outcome.notes, session_id))
        except asyncio.CancelledError:
            self.server.review.drop_session(session_id)  # a cancelled session leaves no proposal
            progress.end("cancelled")
            log.info("session %s cancelled", session_id)
            raise
        except AgentlsError as exc:
            progress.fail(str(exc))
            return
        except Exception as exc:
            log.exception("session %s crashed", session_id)
            progress.fail(f"the agent session failed: {exc} (details in the log)")
            return
        progress.finish(changes)
        if count == 0 and not progress.shows_failures:
            self.server.notify_user(f"no changes: {result.summary or 'the agent changed nothing'}",
                                    types.MessageType.Info)

    async def _offer_notes(self, notes: list[str], session_id: str) -> None:
        """Ask the user about each memory note the agent proposed; only an accepted one is saved."""
        from agentls.workflows.memory_notes import offer_notes

        outcome = await offer_notes(self.runtime, notes, session_id)
        if outcome.error:
            self.server.notify_user(outcome.error)

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
        await self.runtime.aclose()
