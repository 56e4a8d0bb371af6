"""The context engine inside the server: indexing in the background, kept current as files change.

- ``start`` (on ``initialized``): the whole-workspace index build runs in a child process, reported
  through ``$/progress`` (cancellable); the server answers requests as usual meanwhile.
- ``changed``: an open document's edits re-tag that file from the buffer, debounced per document.
- ``saved`` / ``closed`` / ``watched``: re-tag from disk; a burst of watched-file events (a branch
  switch) becomes one incremental refresh instead of many single-file updates.
- ``edit_context`` / ``task_map``: assembled in a worker thread. A failure there is logged and the
  session goes on without the extra context; it never fails an edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from agentls.errors import AgentlsError
from agentls.lsp.debounce import Debouncer
from agentls.lsp.progress import SessionProgress

if TYPE_CHECKING:
    from agentls.context.assemble import EditContext, EditRequest
    from agentls.context.engine import ContextEngine
    from agentls.lsp.server import AgentLanguageServer

log = logging.getLogger(__name__)

#: Quiet time after the last keystroke before a document's tags are refreshed.
CHANGE_DEBOUNCE_S = 0.5
#: More watched-file events than this in one notification trigger a (stamp-checking) refresh instead.
WATCHED_BURST = 50
WATCHER_ID = "agentls-context-watcher"
#: How long an edit waits for the first index build before going on with what there is.
READY_WAIT_S = 3.0


class ContextService:
    def __init__(self, server: AgentLanguageServer) -> None:
        self.server = server
        self._engine: ContextEngine | None = None
        self._debounce: Debouncer[str] = Debouncer()  # per document URI
        self._refresh_task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        #: Workspace-relative paths of recently edited files, most recent first.
        self.recent: list[str] = []
        #: Open documents edited since they were opened or saved: their buffer, not the disk, is the truth.
        self._dirty: set[str] = set()
        #: Files changed while a refresh ran: one more (stamp-checking) refresh when it ends.
        self._rescan = False
        #: One update at a time per file, in the order they were asked for.
        self._file_locks: dict[str, asyncio.Lock] = {}
        self.ready = asyncio.Event()
        #: The engine's modules (tree-sitter queries, numpy) load in a thread: until then there is no engine.
        self._loaded = False
        self.loaded = asyncio.Event()

    @property
    def engine(self) -> ContextEngine | None:
        state = self.server.state
        settings = state.settings
        if state.root is None or not settings.context.enabled or not self._loaded:
            return None
        if self._engine is not None and self._engine.deny != list(settings.tools.deny):
            self._engine.cancel_refresh()  # a new deny-list: start over with it (the next refresh drops rows)
            self._engine.close()
            self._engine = None
        if self._engine is None:
            from agentls.context.engine import ContextEngine

            self._engine = ContextEngine(state.root, settings.context, settings.tools.deny)
        elif self._engine.settings != settings.context:
            self._engine.settings = settings.context  # budgets changed in the editor: used from now on
        return self._engine

    def _rel(self, uri: str) -> str | None:
        try:
            return self.server.agent.relative(uri)
        except AgentlsError:
            return None

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- whole workspace ---------------------------------------------------------------------------

    def start(self) -> None:
        if not self._loaded:
            self._spawn(self._load_then_start())
            return
        if self.engine is None:
            self.ready.set()
            return
        if (self._refresh_task is not None and not self._refresh_task.done()):
            return
        self._refresh_task = asyncio.get_running_loop().create_task(self._refresh("indexing the workspace…"))
        self._watcher = asyncio.get_running_loop().create_task(self._register_watcher())

    async def _load_then_start(self) -> None:
        """Import the engine off the loop (a tenth of a second of imports), then start indexing."""
        import importlib

        await asyncio.to_thread(importlib.import_module, "agentls.context.engine")
        self._loaded = True
        self.loaded.set()
        self.start()

    async def _engine_loaded(self) -> ContextEngine | None:
        """The engine, once its modules are in (an edit right after start-up waits for them a little)."""
        if not self._loaded and self.server.state.root is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.loaded.wait(), READY_WAIT_S)
        return self.engine

    async def _refresh(self, message: str) -> None:
        engine = self.engine
        if engine is None:
            return
        progress = SessionProgress(self.server, "agentls: indexing")
        progress.task = asyncio.current_task()
        await progress.begin(message)
        try:
            report = await engine.refresh(lambda done, total: progress.report(f"{done:,}/{total:,} files"))
        except asyncio.CancelledError:
            progress.end("cancelled")
            raise
        except Exception as exc:
            log.warning("indexing failed: %s", exc)
            progress.end("failed")
            self.server.warn_once(f"indexing the workspace failed, edits get less context: {exc}")
            return
        finally:
            self.ready.set()
            # The build read the disk (even a failed one wrote some batches): put back what the user
            # has typed and not saved.
            self._spawn(self._reapply_buffers())
        progress.end(f"{report.files:,} file{'' if report.files == 1 else 's'} indexed")
        if self._rescan:
            self._rescan = False
            self._refresh_task = asyncio.get_running_loop().create_task(self._refresh("files changed…"))

    async def _reapply_buffers(self) -> None:
        for uri in list(self._dirty):
            rel, doc = self._rel(uri), self.server.state.documents.get(uri)
            if rel is not None and doc is not None:
                await self._update(rel, doc.text)

    async def _register_watcher(self) -> None:
        if not self.server.client_features.file_watching:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
        try:
            await self.server.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(id=WATCHER_ID, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                   register_options=options)]))
        except Exception:
            log.info("the client did not accept the file watcher; the index follows open files only",
                     exc_info=True)

    # -- single files ------------------------------------------------------------------------------

    def _touch(self, rel: str) -> None:
        if rel in self.recent:
            self.recent.remove(rel)
        self.recent.insert(0, rel)
        del self.recent[20:]

    def opened(self, uri: str) -> None:
        """A document opened (perhaps already modified: restored editor state): index its buffer."""
        self.changed(uri)

    def changed(self, uri: str) -> None:
        engine = self.engine
        rel = self._rel(uri)
        if rel is not None and not self._loaded and self.server.state.root is not None:
            self._touch(rel)
            self._dirty.add(uri)  # indexed from its buffer once the engine is in (``_reapply_buffers``)
            return
        if engine is None or rel is None or not engine.covers(rel):
            return
        self._touch(rel)
        self._dirty.add(uri)

        def fire() -> None:
            doc = self.server.state.documents.get(uri)
            if doc is not None:
                self._spawn(self._update(rel, doc.text))

        self._debounce.schedule(uri, CHANGE_DEBOUNCE_S, fire)

    def saved(self, uri: str) -> None:
        self._dirty.discard(uri)
        self._from_disk(uri)

    def closed(self, uri: str) -> None:
        self._dirty.discard(uri)
        self._debounce.cancel(uri)
        self._from_disk(uri)  # unsaved edits were thrown away: the disk is the truth again

    def _from_disk(self, uri: str) -> None:
        engine = self.engine
        rel = self._rel(uri)
        if engine is not None and rel is not None and engine.covers(rel):
            self._spawn(self._update(rel, None))

    def watched(self, changes: Sequence[types.FileEvent]) -> None:
        engine = self.engine
        if engine is None:
            return
        if len(changes) > WATCHED_BURST:
            self._rescan_soon()
            return
        for change in changes:
            rel = self._rel(change.uri)
            if rel is None or change.uri in self.server.state.documents:
                continue  # an open document's buffer is the truth, not the disk
            if not engine.covers(rel):
                # A folder: one event stands for everything below it (deleted, renamed, created).
                if change.type == types.FileChangeType.Deleted:
                    self._spawn(asyncio.to_thread(engine.remove_tree, rel))
                elif change.type == types.FileChangeType.Created and (engine.root / rel).is_dir():
                    self._rescan_soon()
                continue
            if change.type == types.FileChangeType.Deleted:
                self._spawn(asyncio.to_thread(engine.remove_file, rel))
            else:
                self._spawn(self._update(rel, None))

    def _rescan_soon(self) -> None:
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = asyncio.get_running_loop().create_task(self._refresh("files changed…"))
        else:
            self._rescan = True  # the running one may have walked past the changed files already

    async def _update(self, rel: str, text: str | None) -> None:
        engine = self.engine
        if engine is None:
            return
        lock = self._file_locks.setdefault(rel, asyncio.Lock())
        async with lock:  # a save, a close and a keystroke for one file land in the order they came
            try:
                await asyncio.to_thread(engine.update_file, rel, text)
            except Exception:
                log.exception("updating the index for %s failed", rel)

    async def flush(self) -> None:
        """Apply the debounced buffer updates now and wait for the file updates under way (an edit must
        see what the user just typed and the files that just changed on disk)."""
        updates = []
        for uri in self._debounce.cancel_all():
            rel, doc = self._rel(uri), self.server.state.documents.get(uri)
            if rel is not None and doc is not None:
                updates.append(self._update(rel, doc.text))
        in_flight = [task for task in self._background if not task.done() and task is not self._watcher]
        await asyncio.gather(*updates, *in_flight, return_exceptions=True)

    # -- context for the agent ---------------------------------------------------------------------

    async def edit_context(self, request: EditRequest) -> EditContext | None:
        engine = await self._engine_loaded()
        if engine is None:
            return None
        buffers = {rel: doc.text for rel, doc in ((self._rel(u), d) for u, d in self.server.state.documents.items())
                   if rel is not None}

        def read(path: str) -> bytes | None:
            if path in buffers:
                return buffers[path].encode("utf-8", "surrogatepass")
            try:
                return (engine.root / path).read_bytes()
            except OSError:
                return None

        from dataclasses import replace

        if not self.ready.is_set():  # the first build is under way: a small wait buys the definitions
            try:
                await asyncio.wait_for(self.ready.wait(), READY_WAIT_S)
            except TimeoutError:
                log.info("the index is still building; this edit gets the context found so far")
        await self.flush()
        await self._reapply_buffers()  # a refresh under way may have read their files from disk
        request = replace(request, recent=[p for p in self.recent if p != request.path][:5])
        try:
            return await asyncio.to_thread(engine.edit_context, request, (), read)
        except Exception:
            log.exception("assembling the context of an edit in %s failed; going on without it", request.path)
            return None

    async def task_map(self, instruction: str, files: Sequence[str]) -> str:
        """The repo map for a task: ranked towards the files in play and the names in the instruction."""
        engine = await self._engine_loaded()
        if engine is None:
            return ""
        from agentls.context.assemble import words

        focus = {path: 1.0 for path in files} | {p: 0.5 for p in self.recent[:5] if p not in files}
        try:
            found = await asyncio.to_thread(engine.repo_map, focus, words(instruction))
        except Exception:
            log.exception("building the repo map for a task failed; going on without it")
            return ""
        return found.text

    def close(self) -> None:
        self._debounce.cancel_all()
        if self._refresh_task is not None:
            self._refresh_task.cancel()
        if self._engine is not None:
            self._engine.cancel_refresh()  # kills the builder child process
            self._engine.close()
