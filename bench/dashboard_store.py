"""The dashboard's store queries (``agentls.store.overview``) on a long-time user's store, beside the old query.

    python bench/dashboard_store.py [--sessions 10000] [--runs 7]

Builds a store in a temporary directory: ``--sessions`` sessions spread over 90 days, in 5 workspaces, each
with about 4 usage rows (3 models) and 30 events. Then times, each the median of ``--runs`` runs: the first
page of sessions (50, usage summed for the page), a page deep in the list (by cursor), a page filtered by
workspace and one by text, the running/interrupted filter, the total, one session's events, usage for 30
days, a poll from a recent cursor (the last 50 events, 2 ended sessions), and the health view's reads.
Baseline from the same run: ``Store.sessions(limit=50)``, the query ``agentls usage`` uses (it groups the
whole usage table).

Targets: a first page, a deep page and a poll <= 20 ms each; usage over 30 days <= 100 ms. Progress goes to
stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agentls.store.circuits import circuits
from agentls.store.db import Store
from agentls.store.live_cursor import Cursor
from agentls.store.overview import Overview

WORKSPACES = [f"/home/user/project-{i}" for i in range(5)]
MODELS = ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"]
KINDS = ["TurnStarted", "ToolCalled", "ToolFinished", "TextDelta", "UsageUpdated"]


def progress(message: str) -> None:
    print(f"[dashboard store bench] {message}", file=sys.stderr, flush=True)


def build(store: Store, sessions: int, seed: int = 7) -> None:
    """``sessions`` sessions over the last 90 days, with their usage and events, written in one go."""
    rng = random.Random(seed)
    now = time.time()
    session_rows, usage_rows, event_rows = [], [], []
    for i in range(sessions):
        started = now - 90 * 86_400 + 90 * 86_400 * i / sessions + rng.random()
        session_id = f"{i:08x}{rng.getrandbits(32):08x}"
        status = rng.choice(["completed"] * 8 + ["error", "cancelled"])
        topic = rng.choice(["parser", "cache", "login", "export"])
        session_rows.append((session_id, rng.choice(WORKSPACES), "task", f"task {i}: fix the {topic} bug",
                             rng.choice(MODELS), started, started + 120, status, "done", "cli", f"{1000 + i}:123"))
        for turn in range(rng.randint(2, 6)):
            usage_rows.append((session_id, turn + 1, rng.choice(MODELS), started + 20 * turn, rng.randint(100, 5000),
                               rng.randint(50, 2000), rng.randint(0, 3000), rng.randint(0, 20000), rng.random() / 10))
        for seq in range(rng.randint(20, 40)):
            kind = rng.choice(KINDS)
            data = {"text": "words " * rng.randint(5, 60)} if kind == "TextDelta" else {"id": str(seq), "n": seq}
            event_rows.append((session_id, seq, started + seq, kind, json.dumps(data)))
    with store.transaction() as db:
        db.executemany("INSERT INTO sessions (id, workspace, kind, instruction, model, started, ended, status, "
                       "summary, frontend, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?)", session_rows)
        db.executemany("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?)", usage_rows)
        db.executemany("INSERT INTO session_events VALUES (?,?,?,?,?)", event_rows)
        # The newest sessions still marked running: two of a live process (this one), three of a dead one.
        for index, (session_id,) in enumerate(db.execute("SELECT id FROM sessions ORDER BY started DESC LIMIT 5")
                                              .fetchall()):
            owner = f"{os.getpid()}:" if index < 2 else "999999:1"
            db.execute("UPDATE sessions SET status = 'running', ended = NULL, owner = ? WHERE id = ?",
                       (owner, session_id))
    store.fetch("ANALYZE")
    progress(f"{len(session_rows):,} sessions, {len(usage_rows):,} usage rows, {len(event_rows):,} events")


def timed(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def figure(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"{statistics.median(ms):8.2f} ms (min {min(ms):.2f}, max {max(ms):.2f}, {len(ms)} runs)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions in the store (default 10,000)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each measurement (default 7)")
    args = parser.parse_args()
    report = [f"# dashboard store benchmark (SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs)"]
    with tempfile.TemporaryDirectory(prefix="agentls-bench-dashboard-") as tmp:
        store = Store(Path(tmp) / "store.db")
        progress("building the store")
        build(store, args.sessions)
        overview = Overview(store)
        cursor = None
        for _ in range(args.sessions // 2 // 50):  # halfway down the list
            cursor = overview.sessions_page(limit=50, cursor=cursor)[1]
        one = overview.sessions_page(limit=1)[0][0].id
        now = Cursor.now(store)
        with store.transaction() as db:  # two sessions end after the cursor
            db.execute("UPDATE sessions SET ended = ? WHERE id IN (SELECT id FROM sessions ORDER BY started LIMIT 2)",
                       (time.time() + 1,))
        recent = Cursor(**{**now.__dict__, "events": now.events - 50})
        results = {
            "baseline: Store.sessions(limit=50)": timed(lambda: store.sessions(limit=50), args.runs),
            "first page (50)": timed(lambda: overview.sessions_page(limit=50), args.runs),
            f"deep page (50, after {args.sessions // 2:,})": timed(
                lambda: overview.sessions_page(limit=50, cursor=cursor), args.runs),
            "page of one workspace": timed(lambda: overview.sessions_page(workspace=WORKSPACES[2]), args.runs),
            "page by text ('login')": timed(lambda: overview.sessions_page(text="login"), args.runs),
            "page of interrupted sessions": timed(lambda: overview.sessions_page(status="interrupted"), args.runs),
            "total (count, all sessions)": timed(
                lambda: store.fetch("SELECT COUNT(*) FROM sessions WHERE 1"), args.runs),
            "one session's events": timed(lambda: overview.events(one), args.runs),
            "usage (since 30 days)": timed(lambda: overview.usage(time.time() - 30 * 86_400), args.runs),
            "poll (50 events, 2 ended)": timed(lambda: overview.poll(recent), args.runs),
            "poll (nothing new)": timed(lambda: overview.poll(Cursor.now(store)), args.runs),
            "health: recent errors and retries": timed(lambda: overview.recent_errors(20), args.runs),
            "health: circuit breakers": timed(lambda: circuits(store), args.runs),
        }
        plan = store.fetch("EXPLAIN QUERY PLAN SELECT id FROM sessions WHERE 1 AND started <= ? AND (started < ? "
                           "OR id < ?) ORDER BY started DESC, id DESC LIMIT 51", (0, 0, ""))
        store.close()
    width = max(len(label) for label in results)
    report.append(f"\n## {args.sessions:,} sessions")
    report.extend(f"  {label:{width}}  {figure(samples)}" for label, samples in results.items())
    report.append("  deep page's plan: " + "; ".join(row[-1] for row in plan))
    med = {label: statistics.median(samples) for label, samples in results.items()}
    deep = next(label for label in med if label.startswith("deep page"))
    checks = [(f"first page <= 20 ms ({1000 * med['first page (50)']:.2f} ms; baseline "
               f"{1000 * med['baseline: Store.sessions(limit=50)']:.2f} ms)", med["first page (50)"] <= 0.020),
              (f"deep page <= 20 ms ({1000 * med[deep]:.2f} ms)", med[deep] <= 0.020),
              (f"poll <= 20 ms ({1000 * med['poll (50 events, 2 ended)']:.2f} ms)",
               med["poll (50 events, 2 ended)"] <= 0.020),
              (f"usage over 30 days <= 100 ms ({1000 * med['usage (since 30 days)']:.2f} ms)",
               med["usage (since 30 days)"] <= 0.100)]
    report.append("\n## targets")
    report.extend(f"  {'PASS' if ok else 'FAIL'}  {text}" for text, ok in checks)
    print("\n".join(report))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
