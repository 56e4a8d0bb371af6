"""What the dashboard reads from a workspace itself: its checkpoints, symbol index, memory files, MCP servers.

Every method blocks (git, SQLite, the file system): the app calls them in worker threads. Nothing here
redacts: every answer is redacted as it goes out (``jsonable.plain``). A workspace is
served only when the store knows it (a session or a checkpoint ran there): a request cannot make the
dashboard open an arbitrary directory.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentls.errors import AgentlsError, InvalidRequest

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoints
    from agentls.config import Settings
    from agentls.store.db import Store

MAX_SYMBOLS = 100
MAX_DIFF_CHARS = 2_000_000
#: How long a workspace's checkpoint disk use is reused: health asks for it on every visit, and walking a
#: large shadow store takes seconds.
DU_TTL_S = 60.0


class UnknownWorkspace(InvalidRequest):
    pass


@dataclass
class _Opened:
    settings: Settings
    checkpoints: Checkpoints | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Workspaces:
    """Per-workspace services, opened on first use and kept (closed with ``close``)."""

    def __init__(self, store: Store, data_dir: Path, known: Any, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.data_dir = data_dir
        #: ``() -> list[str]``: the workspaces the store knows (``Overview.workspaces``).
        self._known = known
        self._opened: dict[str, _Opened] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._du: dict[str, tuple[float, int | None]] = {}  # workspace -> (when, bytes)

    def _get(self, workspace: str) -> tuple[Path, _Opened]:
        with self._lock:
            opened = self._opened.get(workspace)
        if opened is None:
            if workspace not in self._known():
                raise UnknownWorkspace(f"no agentls session or checkpoint is recorded for {workspace!r}")
            from agentls.config import load_settings

            root = Path(workspace)
            settings = load_settings(root).settings if root.is_dir() else _defaults()
            with self._lock:
                opened = self._opened.setdefault(workspace, _Opened(settings))
        return Path(workspace), opened

    def checkpoints(self, workspace: str) -> Checkpoints:
        root, opened = self._get(workspace)
        if not root.is_dir():
            raise InvalidRequest(f"the workspace {workspace} is not there any more")
        with opened.lock:
            if opened.checkpoints is None:
                from agentls.checkpoints import Checkpoints

                settings = opened.settings
                opened.checkpoints = Checkpoints(root, data_dir=self.data_dir, store=self.store,
                                                 max_file_bytes=settings.checkpoints.max_file_bytes,
                                                 retention=settings.checkpoints.retention, deny=settings.tools.deny)
            return opened.checkpoints

    def checkpoint_diff(self, workspace: str, checkpoint_id: str) -> str:
        text = self.checkpoints(workspace).diff(checkpoint_id)
        if len(text) > MAX_DIFF_CHARS:
            text = text[:MAX_DIFF_CHARS] + f"\n… [{len(text) - MAX_DIFF_CHARS:,} more characters not shown]\n"
        return text

    def restore(self, workspace: str, checkpoint_id: str) -> dict[str, Any]:
        result = self.checkpoints(workspace).restore(checkpoint_id)
        with self._lock:
            self._du.pop(workspace, None)  # the safety checkpoint took space
        return {"restored": result.restored, "deleted": result.deleted, "created": result.created,
                "skipped": result.skipped, "safety_checkpoint": result.safety_checkpoint}

    def checkpoints_bytes(self, workspace: str) -> int | None:
        """Disk used by the workspace's checkpoints, walked at most once per ``DU_TTL_S``."""
        from agentls.checkpoints.shadow_files import shadow_dir

        now = self._clock()
        with self._lock:
            cached = self._du.get(workspace)
        if cached is not None and now - cached[0] < DU_TTL_S:
            return cached[1]
        used = _du(shadow_dir(self.data_dir, Path(workspace)))
        with self._lock:
            self._du[workspace] = (now, used)
        return used

    def memory(self, workspace: str) -> list[dict[str, str]]:
        from agentls.agent.memory import load_memory

        root, _ = self._get(workspace)
        return [{"path": f.path, "text": f.text} for f in load_memory(root)] if root.is_dir() else []

    # -- the symbol index (read only: the editor's server or `agentls context` builds it) ---------------------

    @contextlib.contextmanager
    def _index(self, workspace: str) -> Iterator[Any]:
        """The workspace's index, opened for one read and closed after; None when none was built."""
        from agentls.context.index_db import IndexDB, index_path

        root, _ = self._get(workspace)
        path = index_path(Path(os.path.realpath(root)))
        if not path.exists():
            yield None
            return
        db = IndexDB(path)
        try:
            yield db
        finally:
            db.close()

    def index_state(self, workspace: str) -> dict[str, Any]:
        with self._index(workspace) as db:
            return {"files": db.file_count(), "built": True} if db else {"files": 0, "built": False}

    def symbols(self, workspace: str, query: str) -> dict[str, Any]:
        with self._index(workspace) as db:
            if db is None:
                return {"symbols": [], "indexed": False}
            found = db.search_definitions(query.strip(), MAX_SYMBOLS) if query.strip() else []
            return {"symbols": [_definition(d) for d in found], "indexed": True}

    def symbol(self, workspace: str, name: str) -> dict[str, Any]:
        with self._index(workspace) as db:
            if db is None:
                return {"definitions": [], "references": [], "indexed": False}
            references = [{"path": path, "count": count} for path, count in db.reference_counts(name)]
            return {"definitions": [_definition(d) for d in db.definitions_of([name])], "references": references,
                    "indexed": True}

    def repo_map(self, workspace: str, path: str) -> str:
        from agentls.context.engine import ContextEngine

        root, opened = self._get(workspace)
        engine = ContextEngine(root, opened.settings.context, opened.settings.tools.deny)
        try:
            if not engine.db_path.exists():
                return ""
            return engine.repo_map({path: 1.0} if path else {}).text
        finally:
            engine.close()

    def mcp(self, workspace: str) -> list[dict[str, str]]:
        """Declared servers and whether they may start (none is started here)."""
        from agentls.mcp import sources, trust

        root, opened = self._get(workspace)
        specs, problems = sources.discover(root if root.is_dir() else None, opened.settings.mcp.servers)
        out = []
        for spec in specs:
            if not spec.enabled:
                state, detail = "disabled", ""
            elif spec.problem is not None:
                state, detail = "invalid", spec.problem
            elif not trust.is_trusted(root, spec):
                state, detail = "waiting for trust", f"agentls mcp trust {spec.name}"
            else:
                state, detail = "trusted", spec.describe()
            out.append({"name": spec.name, "state": state, "detail": detail, "origin": spec.origin})
        out.extend({"name": "", "state": "problem", "detail": p, "origin": ""} for p in problems)
        return out

    def close(self) -> None:
        with self._lock:
            opened, self._opened = list(self._opened.values()), {}
        for item in opened:
            if item.checkpoints is not None:
                item.checkpoints.close()


def _defaults() -> Settings:
    from agentls.config import Settings

    return Settings()


def _definition(d: Any) -> dict[str, Any]:
    return {"name": d.name, "kind": d.kind, "path": d.path, "line": d.line + 1, "signature": d.sig}  # 1-based


def _du(path: Path) -> int | None:
    if not path.exists():
        return None
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total


def one_line(exc: BaseException) -> str:
    """What the page shows for a failure: our errors' own message, else the type and message."""
    if isinstance(exc, AgentlsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
