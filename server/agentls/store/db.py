"""The store: one SQLite database per user, shared by every agentls process (WAL, busy timeout).

A leaf layer: plain values in, plain dataclasses out. The schema is versioned with
``PRAGMA user_version``; each migration is a list of statements applied in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            workspace TEXT NOT NULL,
            kind TEXT NOT NULL,
            instruction TEXT NOT NULL,
            model TEXT NOT NULL,
            started REAL NOT NULL,
            ended REAL,
            status TEXT NOT NULL DEFAULT 'running',
            summary TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX sessions_workspace ON sessions(workspace, started)",
        """CREATE TABLE usage (
            session_id TEXT NOT NULL REFERENCES sessions(id),
            turn INTEGER NOT NULL,
            model TEXT NOT NULL,
            time REAL NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL
        )""",
        "CREATE INDEX usage_session ON usage(session_id)",
    ],
    [
        # One row per checkpoint (the commit in the workspace's shadow repository is the data).
        """CREATE TABLE checkpoints (
            id TEXT NOT NULL,
            workspace TEXT NOT NULL,
            session_id TEXT,
            step INTEGER,
            time REAL NOT NULL,
            trigger TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            files TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (workspace, id)
        )""",
        "CREATE INDEX checkpoints_workspace_time ON checkpoints(workspace, time)",
    ],
    [
        # Task plans (``store/plans.py``): the plan, its steps, each run of a step, and the plan's log.
        """CREATE TABLE IF NOT EXISTS plans (
            id TEXT PRIMARY KEY,
            workspace TEXT NOT NULL,
            instruction TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            auto_apply INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            session_id TEXT,
            document TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX IF NOT EXISTS plans_workspace ON plans(workspace, created)",
        """CREATE TABLE IF NOT EXISTS plan_steps (
            plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            position INTEGER NOT NULL,
            parent TEXT,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            files TEXT NOT NULL DEFAULT '[]',
            depends_on TEXT NOT NULL DEFAULT '[]',
            verify TEXT,
            role TEXT NOT NULL DEFAULT 'coder',
            status TEXT NOT NULL DEFAULT 'pending',
            PRIMARY KEY (plan_id, id)
        )""",
        """CREATE TABLE IF NOT EXISTS plan_executions (
            id TEXT PRIMARY KEY,
            plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
            step_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            role TEXT NOT NULL,
            session_id TEXT,
            owner TEXT NOT NULL,
            started REAL NOT NULL,
            ended REAL,
            status TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            files TEXT NOT NULL DEFAULT '[]',
            checkpoint_before TEXT,
            checkpoint_after TEXT,
            verify_command TEXT,
            verify_status TEXT,
            verify_output TEXT NOT NULL DEFAULT '',
            coverage REAL,
            rolled_back INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX IF NOT EXISTS plan_executions_plan ON plan_executions(plan_id, started)",
        """CREATE TABLE IF NOT EXISTS plan_logs (
            plan_id TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
            step_id TEXT,
            time REAL NOT NULL,
            level TEXT NOT NULL,
            message TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS plan_logs_plan ON plan_logs(plan_id, time)",
    ],
    [
        # What each session did, event by event (``store/events.py``): for the dashboard and for replay.
        """CREATE TABLE IF NOT EXISTS session_events (
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            time REAL NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (session_id, seq)
        )""",
    ],
    [
        # The dashboard (``store/overview.py``): which front end ran a session, and which process (its
        # ``plans.owner_token``), so a "running" session whose process died is told apart; indexes for its
        # pages (newest first, by status), its polling (sessions that ended) and its queries by time.
        "ALTER TABLE sessions ADD COLUMN frontend TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX IF NOT EXISTS sessions_started ON sessions(started)",
        "CREATE INDEX IF NOT EXISTS sessions_status ON sessions(status, started)",
        "CREATE INDEX IF NOT EXISTS sessions_ended ON sessions(ended)",
        "CREATE INDEX IF NOT EXISTS usage_time ON usage(time)",
        "CREATE INDEX IF NOT EXISTS checkpoints_time ON checkpoints(time)",
    ],
    [
        # The dashboard's session page asks which plan step ran a session.
        "CREATE INDEX IF NOT EXISTS plan_executions_session ON plan_executions(session_id)",
    ],
]


@dataclass(frozen=True)
class SessionUsage:
    session_id: str
    workspace: str
    kind: str
    instruction: str
    model: str
    started: float
    ended: float | None
    status: str
    turns: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class CheckpointRecord:
    id: str
    workspace: str
    session_id: str | None
    step: int | None
    time: float
    trigger: str
    summary: str
    files: list[str]


#: Characters of a session's summary kept (a runaway reply must not fill the database).
MAX_SUMMARY = 20_000


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        if not path.exists():  # what agents did in the user's code: for the user's eyes only (SQLite gives
            with contextlib.suppress(OSError):  # its -wal and -shm files the same mode)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (for the store's other modules, e.g. ``store/plans.py``)."""
        return self._tx()

    def fetch(self, query: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read query."""
        with self._lock:
            return self._db.execute(query, params).fetchall()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def start_session(self, session_id: str, workspace: str, kind: str, instruction: str, model: str,
                      frontend: str = "", owner: str = "") -> None:
        """``frontend``: ``Runtime.frontend``; ``owner``: ``plans.owner_token()`` of the process running it. The
        instruction is redacted (``agentls.secrets``): a user may paste a key into it."""
        from agentls.secrets import redact

        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions (id, workspace, kind, instruction, model, started, frontend, owner) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (session_id, workspace, kind, redact(instruction), model, time.time(), frontend, owner),
            )

    def end_session(self, session_id: str, status: str, summary: str = "") -> None:
        """Record the end; the summary is redacted (``agentls.secrets``) and capped at ``MAX_SUMMARY``."""
        from agentls.secrets import redact

        if len(summary) > MAX_SUMMARY:
            summary = summary[:MAX_SUMMARY] + f"… [{len(summary) - MAX_SUMMARY:,} more characters]"
        with self._tx() as db:
            db.execute("UPDATE sessions SET ended = ?, status = ?, summary = ? WHERE id = ?",
                       (time.time(), status, redact(summary), session_id))

    def record_usage(self, session_id: str, turn: int, model: str, input_tokens: int, output_tokens: int,
                     cache_write_tokens: int, cache_read_tokens: int, cost_usd: float) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?)",
                (session_id, turn, model, time.time(), input_tokens, output_tokens,
                 cache_write_tokens, cache_read_tokens, cost_usd),
            )

    def sessions(self, workspace: str | None = None, since: float | None = None,
                 limit: int = 50) -> list[SessionUsage]:
        """Sessions with their summed usage, newest first."""
        query = """
            SELECT s.id, s.workspace, s.kind, s.instruction, s.model, s.started, s.ended, s.status,
                   COUNT(u.turn), COALESCE(SUM(u.input_tokens), 0), COALESCE(SUM(u.output_tokens), 0),
                   COALESCE(SUM(u.cache_write_tokens), 0), COALESCE(SUM(u.cache_read_tokens), 0),
                   COALESCE(SUM(u.cost_usd), 0.0)
            FROM sessions s LEFT JOIN usage u ON u.session_id = s.id
            WHERE (? IS NULL OR s.workspace = ?) AND (? IS NULL OR s.started >= ?)
            GROUP BY s.id ORDER BY s.started DESC LIMIT ?"""
        with self._lock:
            rows = self._db.execute(query, (workspace, workspace, since, since, limit)).fetchall()
        return [SessionUsage(*row) for row in rows]

    # -- checkpoints --------------------------------------------------------------------------

    def add_checkpoint(self, record: CheckpointRecord) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?,?,?,?,?)",
                (record.id, record.workspace, record.session_id, record.step, record.time, record.trigger,
                 record.summary, json.dumps(record.files, ensure_ascii=False)),
            )

    def checkpoints(self, workspace: str, limit: int = 50) -> list[CheckpointRecord]:
        """The workspace's checkpoints, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, workspace, session_id, step, time, trigger, summary, files FROM checkpoints "
                "WHERE workspace = ? ORDER BY time DESC, id DESC LIMIT ?", (workspace, limit)).fetchall()
        return [CheckpointRecord(id=row[0], workspace=row[1], session_id=row[2], step=row[3], time=row[4],
                                 trigger=row[5], summary=row[6], files=json.loads(row[7])) for row in rows]

    def checkpoint_ids(self, workspace: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM checkpoints WHERE workspace = ?", (workspace,)).fetchall()
        return {row[0] for row in rows}

    def delete_checkpoints(self, workspace: str, ids: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM checkpoints WHERE workspace = ? AND id = ?",
                           [(workspace, checkpoint_id) for checkpoint_id in ids])
