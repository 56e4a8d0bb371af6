"""Building and refreshing the symbol index: only files whose stamp moved are read again.

``build_index`` walks the workspace, compares each file's (size, mtime) with the index, tags the
changed files (in worker processes when there are many: parsing is CPU-bound and the GIL would
serialise threads) and writes them in batches, each batch one transaction. The language server runs
it as a child process (``python -m agentls.context.build``) so a cold build of a large tree never
competes with the server's event loop for the GIL; progress comes back as JSON lines on stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from agentls.agent.workspace import Workspace
from agentls.config import DEFAULT_DENY, ContextSettings
from agentls.context.index_db import IndexDB, index_path
from agentls.context.scan import Candidate, Extracted, candidates, extract_file

#: Files written per transaction (a reader never waits long; a crash loses at most one batch).
BATCH = 400
#: Below this many changed files, workers cost more to start than they save.
POOL_THRESHOLD = 150


@dataclass(frozen=True)
class BuildReport:
    files: int  # files the index covers now
    indexed: int  # files (re)tagged
    unchanged: int  # stamp moved, content did not
    removed: int
    truncated: bool  # the workspace had more than max_files candidates
    seconds: float


Progress = Callable[[int, int], None]


def _extract_one(root: str, item: tuple[Candidate, str | None]) -> Extracted | None:
    return extract_file(root, item[0], item[1])


def _worker_count(settings: ContextSettings, jobs: int) -> int:
    wanted = settings.workers or (os.cpu_count() or 1)
    return max(1, min(wanted, jobs // 50 or 1))


def _extracted(root: str, todo: Sequence[tuple[Candidate, str | None]],
               settings: ContextSettings) -> Iterable[Extracted | None]:
    workers = _worker_count(settings, len(todo))
    if len(todo) < POOL_THRESHOLD or workers == 1:
        yield from (_extract_one(root, item) for item in todo)
        return
    # "spawn": the caller may be a threaded process (the language server, a test), where fork is unsafe.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(partial(_extract_one, root), todo, chunksize=16)


def build_index(root: Path, db: IndexDB, settings: ContextSettings, deny: Sequence[str] = DEFAULT_DENY,
                on_progress: Progress | None = None) -> BuildReport:
    """Bring the index of ``root`` up to date with the files on disk."""
    started = time.perf_counter()
    workspace = Workspace(root, deny, settings.max_file_bytes)
    known = db.files()
    seen: set[str] = set()
    todo: list[tuple[Candidate, str | None]] = []
    truncated = False
    for candidate in candidates(workspace, settings.max_file_bytes):
        if len(seen) >= settings.max_files:
            truncated = True
            break
        seen.add(candidate.path)
        row = known.get(candidate.path)
        if row is not None and row.size == candidate.size and row.mtime_ns == candidate.mtime_ns:
            continue
        # Same size, new mtime: compare content hashes before re-tagging ("hash on doubt").
        todo.append((candidate, row.hash if row is not None and row.size == candidate.size else None))
    removed = [path for path in known if path not in seen]
    removed_count = len(removed)
    if on_progress is not None:
        on_progress(0, len(todo))
    indexed = unchanged = 0
    batch: list[Extracted] = []
    touched: list[tuple[str, int, int]] = []
    known_hash = {candidate.path: digest for candidate, digest in todo}

    def flush() -> None:
        nonlocal batch, touched, removed
        if batch or removed:
            db.replace_files(batch, removed)
        if touched:
            db.touch(touched)
        batch, touched, removed = [], [], []

    for done, result in enumerate(_extracted(str(workspace.root), todo, settings), start=1):
        if result is not None:
            path, _, size, mtime, digest, _rows = result
            if digest == known_hash.get(path):
                touched.append((path, size, mtime))
                unchanged += 1
            else:
                batch.append(result)
                indexed += 1
        if len(batch) + len(touched) >= BATCH:
            flush()
            if on_progress is not None:
                on_progress(done, len(todo))
    flush()
    if on_progress is not None:
        on_progress(len(todo), len(todo))
    return BuildReport(len(seen), indexed, unchanged, removed_count, truncated,
                       round(time.perf_counter() - started, 3))


def main(argv: Sequence[str] | None = None) -> int:
    """Child-process entry: progress and the final report as JSON lines on stdout."""
    parser = argparse.ArgumentParser(prog="python -m agentls.context.build")
    parser.add_argument("--root", required=True)
    parser.add_argument("--db", default=None)
    parser.add_argument("--settings", default="{}", help="ContextSettings as JSON")
    parser.add_argument("--deny", default=None, help="deny-list as a JSON array")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's (and its workers') priority")
    args = parser.parse_args(argv)
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)  # a background build yields the CPU to the editor and the language server
    root = Path(os.path.realpath(args.root))
    settings = ContextSettings.model_validate(json.loads(args.settings))
    deny = json.loads(args.deny) if args.deny else list(DEFAULT_DENY)
    db = IndexDB(Path(args.db) if args.db else index_path(root))

    def progress(done: int, total: int) -> None:
        sys.stdout.write(json.dumps({"done": done, "total": total}) + "\n")
        sys.stdout.flush()

    try:
        report = build_index(root, db, settings, deny, progress)
    finally:
        db.close()
    sys.stdout.write(json.dumps({"report": asdict(report)}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
