"""The context engine of one workspace: its index, its ranked graph, and the context of an edit.

Three speeds, never on the editor's request path:
- ``refresh``: the whole workspace, in a child process (``agentls.context.build``), at start-up and
  when many files changed at once; a second refresh while one runs waits for it instead of starting
  another.
- ``update_file`` / ``remove_file``: one file, in the caller's thread (milliseconds): from an open
  buffer as the user types (rows stamped so the next scan re-reads the disk), or from disk on save.
- ``graph``: the ranked graph is loaded once per index generation; after an update the old graph keeps
  answering while a new one loads in a background thread (a map one keystroke stale ranks the same).

Methods without ``async`` block: the language server calls them in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path

from agentls.agent.memory import MemoryFile
from agentls.agent.workspace import Workspace
from agentls.config import DEFAULT_DENY, ContextSettings
from agentls.context.assemble import EditContext, EditRequest, assemble
from agentls.context.build import BuildReport, build_index
from agentls.context.graph import RepoGraph
from agentls.context.index_db import IndexDB, content_hash, index_path
from agentls.context.repomap import RepoMap, repo_map
from agentls.context.scan import NO_TAGS, file_tags, is_vendored, language_of, looks_generated
from agentls.errors import AgentlsError
from agentls.syntax.languages import detect_language
from agentls.tokens import COUNTER, TokenCounter

log = logging.getLogger(__name__)

#: Languages with tag queries (``grammars/<lang>/tags.scm``); ``covers`` checks names against it.
TAGGED_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp",
                              "csharp", "ruby", "php", "lua"})
#: Scheduling priority offset of the background builder (it must never slow the editor down).
BUILDER_NICE = 10
#: Shortest time between two reloads of the reference graph, in seconds.
GRAPH_RELOAD_S = 5.0
#: The stamp of rows taken from an unsaved buffer: never equal to a file's real stamp.
BUFFER_STAMP = -1


class IndexBuildFailed(AgentlsError):
    pass


class ContextEngine:
    def __init__(self, root: Path, settings: ContextSettings | None = None, deny: Iterable[str] = DEFAULT_DENY,
                 *, db_path: Path | None = None, counter: TokenCounter = COUNTER) -> None:
        self.root = Path(os.path.realpath(root))
        self.settings = settings or ContextSettings()
        self.deny = list(deny)
        self.counter = counter
        self.db_path = db_path or index_path(self.root)
        self.workspace = Workspace(self.root, self.deny, self.settings.max_file_bytes)
        self._db: IndexDB | None = None
        self._db_lock = threading.Lock()
        self._graph: RepoGraph | None = None
        self._graph_lock = threading.Lock()
        self._graph_loading = False
        self._graph_loaded_at = 0.0
        self._refresh: asyncio.Future[BuildReport] | None = None
        self._refresh_waiters = 0

    @property
    def db(self) -> IndexDB:
        with self._db_lock:
            if self._db is None:
                self._db = IndexDB(self.db_path)
            return self._db

    def close(self) -> None:
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- whole-workspace builds -------------------------------------------------------------------

    def refresh_sync(self, on_progress: Callable[[int, int], None] | None = None) -> BuildReport:
        """Build in this process (the CLI; tests)."""
        return build_index(self.root, self.db, self.settings, self.deny, on_progress)

    async def refresh(self, on_progress: Callable[[int, int], None] | None = None) -> BuildReport:
        """Build in a child process; concurrent callers share one build. Cancelling kills the child."""
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.ensure_future(self._run_builder(on_progress))
            self._refresh_waiters = 0
        build = self._refresh
        self._refresh_waiters += 1
        try:
            return await asyncio.shield(build)
        except asyncio.CancelledError:
            if self._refresh_waiters == 1:
                build.cancel()  # nobody else waits for it: stop the child process
            raise
        finally:
            self._refresh_waiters -= 1

    def cancel_refresh(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()

    async def _run_builder(self, on_progress: Callable[[int, int], None] | None) -> BuildReport:
        # Through nice(1) where there is one, so even the child's start-up runs at the lower priority.
        nice = shutil.which("nice")
        prefix = [nice, "-n", str(BUILDER_NICE)] if nice else []
        process = await asyncio.create_subprocess_exec(
            *prefix, sys.executable, "-m", "agentls.context.build", "--root", str(self.root),
            "--db", str(self.db_path), "--settings", self.settings.model_dump_json(), "--deny", json.dumps(self.deny),
            *([] if nice else ["--nice", str(BUILDER_NICE)]),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        report: BuildReport | None = None
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            errors = asyncio.ensure_future(process.stderr.read())
            async for raw in process.stdout:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if "report" in message:
                    report = BuildReport(**message["report"])
                elif on_progress is not None:
                    on_progress(int(message.get("done", 0)), int(message.get("total", 0)))
            code = await process.wait()
            stderr = (await errors).decode("utf-8", "replace").strip()
        except BaseException:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        if code != 0 or report is None:
            log.warning("index build for %s failed (exit %s): %s", self.root, code, stderr[-2000:])
            raise IndexBuildFailed(f"indexing {self.root} failed (exit {code}): "
                                   f"{stderr.splitlines()[-1] if stderr else 'no message'}")
        log.info("index of %s: %s", self.root, json.dumps(asdict(report)))
        return report

    # -- one file ----------------------------------------------------------------------------------

    def covers(self, path: str) -> bool:
        """Whether ``path`` (workspace-relative) is a kind of file the index keeps, by its name alone:
        cheap enough for the event loop (``language_of`` would compile the language's tag query)."""
        return detect_language(path) in TAGGED_LANGUAGES and not is_vendored(path)

    def _excluded(self, path: str) -> bool:
        """Ignored by git or deny-listed: never indexed, whatever event names it."""
        return self.workspace.is_denied(path) or self.workspace.is_ignored(path, is_dir=False)

    def update_file(self, path: str, text: str | None = None) -> bool:
        """Re-tag one file: from ``text`` (an open buffer) or from disk. False when it is not covered."""
        language = language_of(path)
        if language is None or is_vendored(path):
            return False
        if self._excluded(path):
            self.remove_file(path)  # it may have been indexed before a .gitignore or deny rule covered it
            return False
        if text is not None:
            data = text.encode("utf-8", "surrogatepass")
            size = mtime = BUFFER_STAMP
        else:
            full = self.root / path
            try:
                with open(full, "rb") as handle:
                    info = os.fstat(handle.fileno())
                    data = handle.read()
            except OSError:
                self.remove_file(path)
                return True
            size, mtime = info.st_size, info.st_mtime_ns
        if len(data) > self.settings.max_file_bytes:
            self.remove_file(path)
            return True
        tags = NO_TAGS if looks_generated(data) else file_tags(language, data)
        self.db.replace_files([(path, language, size, mtime, content_hash(data), tags)])
        self._graph_stale()
        return True

    def remove_file(self, path: str) -> None:
        if self.db.replace_files([], [path]):
            self._graph_stale()

    def remove_tree(self, directory: str) -> int:
        """Drop every file under ``directory`` (a deleted or renamed folder); how many were dropped."""
        prefix = directory.rstrip("/") + "/"
        gone = [path for path in self.db.files() if path.startswith(prefix)]
        if gone:
            self.db.replace_files([], gone)
            self._graph_stale()
        return len(gone)

    # -- ranking -------------------------------------------------------------------------------------

    def graph(self) -> RepoGraph | None:
        """The current graph: loaded now if there is none, else the cached one (refreshed behind)."""
        with self._graph_lock:
            graph = self._graph
        if graph is None:
            if self.db.file_count() == 0:
                return None
            graph = RepoGraph.load(self.db)
            with self._graph_lock:
                self._graph = graph
        elif graph.generation != self.db.generation():
            self._graph_stale()
        return graph

    def _graph_stale(self) -> None:
        with self._graph_lock:
            if self._graph is None or self._graph_loading:
                return
            self._graph_loading = True
        threading.Thread(target=self._reload_graph, name="agentls-graph", daemon=True).start()

    def _reload_graph(self) -> None:
        # At most one reload per GRAPH_RELOAD_S: typing re-tags a file every half second, and a map
        # a few seconds stale ranks the same.
        wait = self._graph_loaded_at + GRAPH_RELOAD_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            graph = RepoGraph.load(self.db)
            with self._graph_lock:
                self._graph = graph
        except Exception:
            log.exception("reloading the reference graph of %s failed", self.root)
        finally:
            with self._graph_lock:
                self._graph_loading = False
                self._graph_loaded_at = time.monotonic()
            if self._graph is not None and self._graph.generation != self.db.generation():
                self._graph_stale()

    def repo_map(self, focus: Mapping[str, float], mentioned: Iterable[str] = (), exclude: Iterable[str] = (),
                 budget: int | None = None) -> RepoMap:
        graph = self.graph()
        if graph is None:
            return RepoMap("", 0, 0, 0)
        return repo_map(graph, focus=focus, mentioned=set(mentioned), exclude=set(exclude),
                        budget=self.settings.repo_map_tokens if budget is None else budget, counter=self._counter())

    def _counter(self) -> TokenCounter:
        """A fixed copy of the counter: sessions calibrate the shared one while a map is being fitted."""
        return TokenCounter(self.counter.bytes_per_token)

    def edit_context(self, request: EditRequest, memory: Iterable[MemoryFile] = (),
                     read: Callable[[str], bytes | None] | None = None) -> EditContext:
        has_index = self.db.file_count() > 0
        return assemble(request, root=str(self.root), settings=self.settings, counter=self._counter(),
                        db=self.db if has_index else None, graph=self.graph() if has_index else None,
                        memory=memory, read=read)
