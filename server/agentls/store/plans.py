"""Plans in the store: the plan, its steps, every run of a step (an execution), and the plan's log.

A leaf like the rest of ``store``: plain values in, plain dataclasses out (``agentls.plans`` turns
them into its models). Every execution row names its owner (the process running it, with the
process's start time so a recycled pid is not mistaken for it); ``reap_interrupted`` marks the
executions whose owner is gone as ``interrupted``, so a step cut short by a crash or a restart is
reported as such and never silently re-run.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentls.store.db import Store

_STEP_COLUMNS = "id, position, parent, title, description, files, depends_on, verify, role, status"
_EXEC_COLUMNS = ("id, plan_id, step_id, attempt, role, session_id, owner, started, ended, status, error, "
                 "input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, files, "
                 "checkpoint_before, checkpoint_after, verify_command, verify_status, verify_output, coverage, "
                 "rolled_back")


@dataclass
class StepRow:
    id: str
    position: int
    parent: str | None
    title: str
    description: str = ""
    files: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    verify: str | None = None
    role: str = "coder"
    status: str = "pending"


@dataclass
class PlanRow:
    id: str
    workspace: str
    instruction: str
    summary: str
    status: str
    auto_apply: bool
    created: float
    updated: float
    session_id: str | None
    document: str


@dataclass
class ExecutionRow:
    id: str
    plan_id: str
    step_id: str
    attempt: int
    role: str
    session_id: str | None
    owner: str
    started: float
    ended: float | None = None
    status: str = "running"
    error: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    files: list[str] = field(default_factory=list)
    checkpoint_before: str | None = None
    checkpoint_after: str | None = None
    verify_command: str | None = None
    verify_status: str | None = None
    verify_output: str = ""
    coverage: float | None = None
    rolled_back: bool = False


@dataclass(frozen=True)
class LogRow:
    plan_id: str
    step_id: str | None
    time: float
    level: str
    message: str


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), else empty."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else ""


def owner_token(pid: int | None = None) -> str:
    """``pid:start-time`` of a process (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{_start_time(pid)}"


def owner_alive(owner: str) -> bool:
    pid_text, _, started = owner.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or _start_time(pid) in ("", started)


def _execution(row: tuple[Any, ...]) -> ExecutionRow:
    values = list(row)
    values[16] = json.loads(values[16])
    values[23] = bool(values[23])
    return ExecutionRow(*values)


class PlanStore:
    """Plan persistence on the shared ``Store`` (its connection, lock and transactions)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- plans ----------------------------------------------------------------------------------
    def create(self, workspace: str, instruction: str, summary: str, steps: Sequence[StepRow], *,
               session_id: str | None = None, auto_apply: bool = False, plan_id: str | None = None) -> str:
        plan_id = plan_id or uuid.uuid4().hex[:10]
        now = time.time()
        with self.store.transaction() as db:
            db.execute("INSERT INTO plans (id, workspace, instruction, summary, status, auto_apply, created, updated, "
                       "session_id) VALUES (?,?,?,?,?,?,?,?,?)",
                       (plan_id, workspace, instruction, summary, "draft", int(auto_apply), now, now, session_id))
            self._insert_steps(db, plan_id, steps)
        return plan_id

    @staticmethod
    def _insert_steps(db: Any, plan_id: str, steps: Sequence[StepRow]) -> None:
        db.executemany(
            f"INSERT INTO plan_steps (plan_id, {_STEP_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(plan_id, s.id, s.position, s.parent, s.title, s.description, json.dumps(s.files),
              json.dumps(s.depends_on), s.verify, s.role, s.status) for s in steps])

    def replace_steps(self, plan_id: str, steps: Sequence[StepRow]) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM plan_steps WHERE plan_id = ?", (plan_id,))
            self._insert_steps(db, plan_id, steps)
            db.execute("UPDATE plans SET updated = ? WHERE id = ?", (time.time(), plan_id))

    def get(self, plan_id: str) -> PlanRow | None:
        rows = self.store.fetch("SELECT id, workspace, instruction, summary, status, auto_apply, created, updated, "
                                "session_id, document FROM plans WHERE id = ?", (plan_id,))
        return self._plan_row(rows[0]) if rows else None

    @staticmethod
    def _plan_row(row: tuple[Any, ...]) -> PlanRow:
        return PlanRow(id=row[0], workspace=row[1], instruction=row[2], summary=row[3], status=row[4],
                       auto_apply=bool(row[5]), created=row[6], updated=row[7], session_id=row[8], document=row[9])

    def find(self, prefix: str, workspace: str | None = None) -> list[str]:
        """Plan ids starting with ``prefix`` (an exact id first)."""
        rows = self.store.fetch("SELECT id FROM plans WHERE (id = ? OR id LIKE ?) AND (? IS NULL OR workspace = ?) "
                                "ORDER BY id = ? DESC, created DESC",
                                (prefix, prefix.replace("%", "").replace("_", "") + "%", workspace, workspace,
                                 prefix))
        return [row[0] for row in rows]

    def list_plans(self, workspace: str | None = None, limit: int = 50) -> list[PlanRow]:
        rows = self.store.fetch("SELECT id, workspace, instruction, summary, status, auto_apply, created, updated, "
                                "session_id, document FROM plans WHERE (? IS NULL OR workspace = ?) "
                                "ORDER BY created DESC LIMIT ?", (workspace, workspace, limit))
        return [self._plan_row(row) for row in rows]

    def update(self, plan_id: str, **fields: Any) -> None:
        allowed = {"summary", "status", "auto_apply", "document", "instruction"}
        if not fields:
            return
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not a plan field: {', '.join(sorted(unknown))}")
        values = [int(v) if isinstance(v, bool) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.store.transaction() as db:
            db.execute(f"UPDATE plans SET {assignments}, updated = ? WHERE id = ?", (*values, time.time(), plan_id))

    # -- steps ----------------------------------------------------------------------------------
    def steps(self, plan_id: str) -> list[StepRow]:
        rows = self.store.fetch(f"SELECT {_STEP_COLUMNS} FROM plan_steps WHERE plan_id = ? ORDER BY position",
                                (plan_id,))
        return [StepRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), json.loads(row[6]), row[7],
                        row[8], row[9]) for row in rows]

    def set_step_status(self, plan_id: str, step_ids: Sequence[str], status: str) -> None:
        with self.store.transaction() as db:
            db.executemany("UPDATE plan_steps SET status = ? WHERE plan_id = ? AND id = ?",
                           [(status, plan_id, step_id) for step_id in step_ids])
            db.execute("UPDATE plans SET updated = ? WHERE id = ?", (time.time(), plan_id))

    # -- executions -----------------------------------------------------------------------------
    def start_execution(self, plan_id: str, step_id: str, role: str, *, session_id: str | None = None,
                        verify_command: str | None = None) -> ExecutionRow:
        with self.store.transaction() as db:
            attempt = db.execute("SELECT COUNT(*) FROM plan_executions WHERE plan_id = ? AND step_id = ?",
                                 (plan_id, step_id)).fetchone()[0] + 1
            row = ExecutionRow(uuid.uuid4().hex[:12], plan_id, step_id, attempt, role, session_id, owner_token(),
                               time.time(), verify_command=verify_command)
            db.execute(f"INSERT INTO plan_executions ({_EXEC_COLUMNS}) VALUES ({','.join('?' * 24)})",
                       self._values(row))
            db.execute("UPDATE plan_steps SET status = 'running' WHERE plan_id = ? AND id = ?", (plan_id, step_id))
        return row

    @staticmethod
    def _values(row: ExecutionRow) -> tuple[Any, ...]:
        return (row.id, row.plan_id, row.step_id, row.attempt, row.role, row.session_id, row.owner, row.started,
                row.ended, row.status, row.error, row.input_tokens, row.output_tokens, row.cache_write_tokens,
                row.cache_read_tokens, row.cost_usd, json.dumps(row.files), row.checkpoint_before,
                row.checkpoint_after, row.verify_command, row.verify_status, row.verify_output, row.coverage,
                int(row.rolled_back))

    def save_execution(self, row: ExecutionRow) -> None:
        """Write every field of ``row`` (its progress so far, or its end)."""
        with self.store.transaction() as db:
            db.execute(f"INSERT OR REPLACE INTO plan_executions ({_EXEC_COLUMNS}) VALUES ({','.join('?' * 24)})",
                       self._values(row))

    def executions(self, plan_id: str, step_id: str | None = None) -> list[ExecutionRow]:
        rows = self.store.fetch(f"SELECT {_EXEC_COLUMNS} FROM plan_executions WHERE plan_id = ? "
                                "AND (? IS NULL OR step_id = ?) ORDER BY started, attempt",
                                (plan_id, step_id, step_id))
        return [_execution(row) for row in rows]

    def mark_rolled_back(self, execution_ids: Sequence[str]) -> None:
        with self.store.transaction() as db:
            db.executemany("UPDATE plan_executions SET rolled_back = 1 WHERE id = ?",
                           [(execution_id,) for execution_id in execution_ids])

    def reap_interrupted(self, workspace: str | None = None) -> list[tuple[str, str]]:
        """Mark running executions whose process is gone as interrupted (their steps and plans too);
        returns the (plan id, step id) pairs marked."""
        rows = self.store.fetch(
            "SELECT e.id, e.plan_id, e.step_id, e.owner FROM plan_executions e JOIN plans p ON p.id = e.plan_id "
            "WHERE e.status = 'running' AND (? IS NULL OR p.workspace = ?)", (workspace, workspace))
        dead = [(row[0], row[1], row[2]) for row in rows if not owner_alive(row[3])]
        if not dead:
            return []
        now = time.time()
        with self.store.transaction() as db:
            for execution_id, plan_id, step_id in dead:
                db.execute("UPDATE plan_executions SET status = 'interrupted', ended = ?, "
                           "error = 'interrupted: the process running it ended' WHERE id = ? AND status = 'running'",
                           (now, execution_id))
                db.execute("UPDATE plan_steps SET status = 'interrupted' WHERE plan_id = ? AND id = ?",
                           (plan_id, step_id))
                db.execute("UPDATE plans SET status = 'interrupted', updated = ? WHERE id = ?", (now, plan_id))
                db.execute("INSERT INTO plan_logs VALUES (?,?,?,?,?)",
                           (plan_id, step_id, now, "error", f"step {step_id} was interrupted (its process ended); "
                            "it was not re-run"))
        return [(plan_id, step_id) for _, plan_id, step_id in dead]

    def session_cost(self, session_id: str | None) -> tuple[int, float]:
        """Tokens and dollars a session (the architect's) used, from the usage table."""
        if not session_id:
            return 0, 0.0
        rows = self.store.fetch("SELECT COALESCE(SUM(input_tokens + output_tokens + cache_write_tokens + "
                                "cache_read_tokens), 0), COALESCE(SUM(cost_usd), 0.0) FROM usage WHERE session_id = ?",
                                (session_id,))
        return int(rows[0][0]), float(rows[0][1])

    # -- logs ----------------------------------------------------------------------------------
    def log(self, plan_id: str, step_id: str | None, level: str, message: str) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT INTO plan_logs VALUES (?,?,?,?,?)", (plan_id, step_id, time.time(), level, message))

    def logs(self, plan_id: str, step_id: str | None = None, limit: int = 500) -> list[LogRow]:
        rows = self.store.fetch("SELECT plan_id, step_id, time, level, message FROM plan_logs WHERE plan_id = ? "
                                "AND (? IS NULL OR step_id = ?) ORDER BY time, rowid LIMIT ?",
                                (plan_id, step_id, step_id, limit))
        return [LogRow(*row) for row in rows]
