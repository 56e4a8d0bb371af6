"""What the dashboard reads from the store (``docs/dashboard.md``): paged sessions, one session's events and
changes, usage by day, model and workspace, plans, errors, and what changed since a cursor.

Every query is paged or bounded and runs on an index (the store of a long-time user holds tens of thousands
of sessions): a page selects its sessions first and sums the usage of those only. The dashboard polls
``poll`` a few times a second, so a poll reads only rows past its ``Cursor`` (rowids, which a write —
an ``INSERT OR REPLACE`` too — always moves forward). Field names are the API's; ``as_dict`` gives its JSON.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentls.store.db import Store
from agentls.store.events import StoredEvent
from agentls.store.live_cursor import Cursor
from agentls.store.plans import owner_alive

#: A ``running`` session without an owner (recorded before owners were) counts as interrupted after this.
UNOWNED_STALE_S = 6 * 3600
#: Events one ``poll`` returns at most (the rest come with the next).
POLL_EVENTS = 500
#: The sessions running or started in the last ``RECENT_S`` (the parameter), on the sessions' indexes: the
#: events of recent sessions are read through these and the events' primary key, not a scan by kind.
RECENT_SESSIONS_SQL = ("(SELECT id FROM sessions WHERE status = 'running' "
                       "UNION SELECT id FROM sessions WHERE started >= ?)")
RECENT_S = 2 * 86_400
_SUMS = ("cost_usd", "input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
_SUM_SQL = ("COALESCE(SUM(u.cost_usd), 0.0), COALESCE(SUM(u.input_tokens), 0), COALESCE(SUM(u.output_tokens), 0), "
            "COALESCE(SUM(u.cache_write_tokens), 0), COALESCE(SUM(u.cache_read_tokens), 0)")
_SESSION_COLUMNS = "id, workspace, kind, frontend, instruction, model, started, ended, status, owner"
#: An event's data as served: a change's texts are left out (``changes`` serves them).
_DATA_SQL = ("CASE WHEN kind = 'ChangeProposed' THEN json_object('path', json_extract(data, '$.path')) "
             "ELSE data END")


@dataclass(frozen=True)
class SessionRow:
    id: str
    workspace: str
    kind: str
    frontend: str
    instruction: str
    model: str
    started: float
    ended: float | None
    status: str
    live: bool
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ChangeRecord:
    """The last proposal of a path in a session, and what the user did with its hunks."""

    path: str
    before: str | None
    after: str | None
    #: ``proposed``, ``accepted``, ``rejected``, ``partial``, ``conflict`` or ``stale``.
    state: str
    hunks: dict[str, str] = field(default_factory=dict)
    #: The texts were over the recorder's limit and not stored.
    too_large: bool = False


@dataclass(frozen=True)
class PlanSummary:
    id: str
    workspace: str
    instruction: str
    summary: str
    status: str
    created: float
    updated: float
    steps_total: int
    steps_done: int
    cost_usd: float

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Changes:
    """What changed since a cursor (``Overview.poll``)."""

    sessions: list[SessionRow]
    events: list[StoredEvent]
    plans: list[str]
    checkpoints: list[tuple[str, str]]  # (workspace, id)
    #: More events wait past the bound: poll again at once.
    more: bool = False

    def __bool__(self) -> bool:
        return bool(self.sessions or self.events or self.plans or self.checkpoints)


def _encode_cursor(started: float, session_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([started, session_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        started, session_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return float(started), str(session_id)
    except Exception as exc:
        raise ValueError(f"not a sessions cursor: {cursor[:40]!r}") from exc


def _sums(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(_SUMS, row, strict=True))


def fold_state(hunks: dict[str, str], resolved: bool) -> str:
    """One state for a change from its hunks' states (``edits.proposal.HunkState``)."""
    states = {state for state in hunks.values() if state != "pending"}
    if not states:
        return "proposed"
    for state in ("conflict", "stale"):
        if state in states:
            return state
    if states == {"accepted"} and resolved:
        return "accepted"
    if states == {"rejected"} and resolved:
        return "rejected"
    return "partial"  # some hunks each way, or some decided and others still pending


class Overview:
    """The dashboard's queries over one ``Store`` (the store locks itself; call from worker threads)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- sessions -------------------------------------------------------------------------------------------
    def _status(self, status: str, owner: str, started: float, alive: dict[str, bool], now: float) -> tuple[str, bool]:
        """The status shown and whether the session's process runs it."""
        if status != "running":
            return status, False
        if not owner:
            return ("interrupted", False) if now - started > UNOWNED_STALE_S else ("running", False)
        if owner not in alive:
            alive[owner] = owner_alive(owner)
        return ("running", True) if alive[owner] else ("interrupted", False)

    def _rows(self, rows: Sequence[Sequence[Any]]) -> list[SessionRow]:
        """Session rows (``_SESSION_COLUMNS``) with their usage summed, those sessions' only."""
        ids = [row[0] for row in rows]
        usage: dict[str, Sequence[Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for found in self.store.fetch(
                    f"SELECT u.session_id, COUNT(*), {_SUM_SQL} FROM usage u WHERE u.session_id IN "
                    f"({','.join('?' * len(chunk))}) GROUP BY u.session_id", chunk):
                usage[found[0]] = found[1:]
        alive: dict[str, bool] = {}
        now = time.time()
        out = []
        for row in rows:
            status, live = self._status(row[8], row[9], row[6], alive, now)
            turns, cost, tokens_in, tokens_out, cache_write, cache_read = usage.get(row[0], (0, 0.0, 0, 0, 0, 0))
            out.append(SessionRow(id=row[0], workspace=row[1], kind=row[2], frontend=row[3], instruction=row[4],
                                  model=row[5], started=row[6], ended=row[7], status=status, live=live,
                                  turns=turns, input_tokens=tokens_in,
                                  output_tokens=tokens_out, cache_write_tokens=cache_write,
                                  cache_read_tokens=cache_read, cost_usd=cost))
        return out

    def sessions_page(self, limit: int = 50, cursor: str | None = None, workspace: str | None = None,
                      status: str | None = None, text: str | None = None
                      ) -> tuple[list[SessionRow], str | None, int]:
        """A page of sessions, newest first: (rows, the next page's cursor or None, how many match).

        ``status`` is the status shown: ``running`` and ``interrupted`` are told apart among the stored
        ``running`` sessions (few), any other is the stored one. ``text``: a substring of the instruction
        (case-insensitive for ASCII letters, as SQLite's LIKE)."""
        where: list[str] = ["1"]
        params: list[Any] = []
        if workspace is not None:
            where.append("workspace = ?")
            params.append(workspace)
        if text:
            where.append("instruction LIKE ? ESCAPE '\\'")
            params.append("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        derived = status in ("running", "interrupted")
        if status is not None:
            where.append("status = ?")
            params.append("running" if derived else status)
        condition = " AND ".join(where)
        if derived:
            return self._derived_page(limit, cursor, condition, params, status or "")
        total = int(self.store.fetch(f"SELECT COUNT(*) FROM sessions WHERE {condition}", params)[0][0])
        page_where, page_params = condition, list(params)
        if cursor is not None:
            started, last_id = _decode_cursor(cursor)
            page_where += " AND started <= ? AND (started < ? OR id < ?)"  # one range on the started index
            page_params += [started, started, last_id]
        rows = self.store.fetch(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE {page_where} "
                                "ORDER BY started DESC, id DESC LIMIT ?", [*page_params, limit + 1])
        next_cursor = _encode_cursor(rows[limit - 1][6], rows[limit - 1][0]) if len(rows) > limit else None
        return self._rows(rows[:limit]), next_cursor, total

    def _derived_page(self, limit: int, cursor: str | None, condition: str, params: list[Any],
                      status: str) -> tuple[list[SessionRow], str | None, int]:
        candidates = self.store.fetch(f"SELECT id, owner, started FROM sessions WHERE {condition} "
                                      "ORDER BY started DESC, id DESC", params)
        alive: dict[str, bool] = {}
        now = time.time()
        keys = [(row[2], row[0]) for row in candidates
                if self._status("running", row[1], row[2], alive, now)[0] == status]
        total = len(keys)
        if cursor is not None:
            after = _decode_cursor(cursor)
            keys = [key for key in keys if key < after]
        page = keys[:limit]
        next_cursor = _encode_cursor(*page[-1]) if len(keys) > limit else None
        return self._by_id([session_id for _, session_id in page]), next_cursor, total

    def _by_id(self, ids: Sequence[str]) -> list[SessionRow]:
        """The sessions of ``ids``, in that order."""
        found: dict[str, Sequence[Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            for row in self.store.fetch(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id IN "
                                        f"({','.join('?' * len(chunk))})", chunk):
                found[row[0]] = row
        return self._rows([found[i] for i in ids if i in found])

    def session(self, session_id: str) -> SessionRow | None:
        rows = self._by_id([session_id])
        return rows[0] if rows else None

    def events(self, session_id: str, after_seq: int = -1, limit: int = 2000) -> list[StoredEvent]:
        """The session's events after ``after_seq``, in order (a change's texts left out: see ``changes``)."""
        rows = self.store.fetch(f"SELECT session_id, seq, time, kind, {_DATA_SQL} FROM session_events "
                                "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?", (session_id, after_seq, limit))
        return [StoredEvent(row[0], row[1], row[2], row[3], json.loads(row[4])) for row in rows]

    def changes(self, session_id: str) -> list[ChangeRecord]:
        """Each path's last proposal in the session, with the hunk states its reviews left (in path order)."""
        rows = self.store.fetch("SELECT kind, data FROM session_events WHERE session_id = ? "
                                "AND kind IN ('ChangeProposed', 'ChangeResolved') ORDER BY seq", (session_id,))
        proposed: dict[str, dict[str, Any]] = {}
        hunks: dict[str, dict[str, str]] = {}
        resolved: dict[str, bool] = {}
        for kind, data_text in rows:
            data = json.loads(data_text)
            path = str(data.get("path", ""))
            if kind == "ChangeProposed":
                proposed[path], hunks[path], resolved[path] = data, {}, False
            else:
                hunks.setdefault(path, {}).update({str(h[0]): str(h[1]) for h in data.get("hunks", [])})
                resolved[path] = bool(data.get("resolved"))
        out = []
        for path in sorted(set(proposed) | set(hunks)):
            data = proposed.get(path, {})
            out.append(ChangeRecord(path, data.get("before"), data.get("after"),
                                    fold_state(hunks.get(path, {}), resolved.get(path, False)),
                                    hunks.get(path, {}), bool(data.get("too_large"))))
        return out

    # -- usage, workspaces, errors, plans ----------------------------------------------------------------
    def usage(self, since: float, workspace: str | None = None) -> dict[str, Any]:
        """Usage since ``since`` by local day, model and workspace, and in total (the API's ``/api/usage``).

        ``sessions``: sessions started (per day) or with usage (per model and workspace). Days without a
        session or usage are absent."""
        join = "JOIN sessions s ON s.id = u.session_id" if workspace is not None else ""
        where, params = "u.time >= ?" + (" AND s.workspace = ?" if workspace is not None else ""), \
            [since, *([workspace] if workspace is not None else [])]
        by_day: dict[str, dict[str, Any]] = {}
        for row in self.store.fetch(f"SELECT date(u.time, 'unixepoch', 'localtime') AS day, {_SUM_SQL} FROM usage u "
                                    f"{join} WHERE {where} GROUP BY day", params):
            by_day[row[0]] = {"day": row[0], **_sums(row[1:]), "sessions": 0}
        started = self.store.fetch("SELECT date(started, 'unixepoch', 'localtime') AS day, COUNT(*) FROM sessions "
                                   "WHERE started >= ?" + (" AND workspace = ?" if workspace is not None else "") +
                                   " GROUP BY day", params)
        for day, count in started:
            by_day.setdefault(day, {"day": day, **dict.fromkeys(_SUMS, 0), "cost_usd": 0.0})["sessions"] = count
        models = [{"model": row[0], **_sums(row[1:6]), "sessions": row[6]} for row in self.store.fetch(
            f"SELECT u.model, {_SUM_SQL}, COUNT(DISTINCT u.session_id) FROM usage u {join} WHERE {where} "
            "GROUP BY u.model ORDER BY 2 DESC", params)]
        join = "CROSS JOIN sessions s ON s.id = u.session_id"  # usage (by time) first, not every session's
        workspaces = [{"workspace": row[0], **_sums(row[1:6]), "sessions": row[6]} for row in self.store.fetch(
            f"SELECT s.workspace, {_SUM_SQL}, COUNT(DISTINCT u.session_id) FROM usage u {join} WHERE {where} "
            "GROUP BY s.workspace ORDER BY 2 DESC", params)]
        total: dict[str, Any] = {key: sum(m[key] for m in models) for key in _SUMS}
        total["sessions"] = sum(count for _, count in started)
        tokens = total["input_tokens"] + total["cache_write_tokens"] + total["cache_read_tokens"]
        total["cache_read_share"] = total["cache_read_tokens"] / tokens if tokens else 0.0
        return {"days": sorted(by_day.values(), key=lambda d: d["day"]), "models": models,
                "workspaces": workspaces, "total": total}

    def workspaces(self) -> list[str]:
        """Every workspace with a session or a checkpoint, the most recently used first."""
        latest: dict[str, float] = {}
        for path, when in self.store.fetch("SELECT workspace, MAX(started) FROM sessions GROUP BY workspace "
                                           "UNION ALL SELECT workspace, MAX(time) FROM checkpoints GROUP BY workspace"):
            latest[path] = max(latest.get(path, 0.0), when or 0.0)
        return sorted(latest, key=lambda path: -latest[path])

    def recent_errors(self, limit: int = 20, now: float | None = None) -> tuple[list[dict[str, Any]], int]:
        """Sessions that failed (``failed``; ``error`` in older stores), newest first ({"session_id", "time",
        "text"}), and the ``Retrying`` events of the last hour (in sessions running or started in the last two
        days: on an index)."""
        now = time.time() if now is None else now
        errors = [{"session_id": row[0], "time": row[1], "text": row[2]} for row in self.store.fetch(
            "SELECT id, COALESCE(ended, started), summary FROM sessions WHERE status IN ('failed', 'error') "
            "ORDER BY started DESC LIMIT ?", (limit,))]
        retries = self.store.fetch(
            f"SELECT COUNT(*) FROM session_events WHERE kind = 'Retrying' AND time >= ? AND session_id IN "
            f"{RECENT_SESSIONS_SQL}", (now - 3600, now - RECENT_S))[0][0]
        return errors, int(retries)

    def plans_page(self, workspace: str | None = None, limit: int = 50) -> list[PlanSummary]:
        """Plans, newest first, with their steps counted and their executions' cost summed."""
        where, params = ("WHERE workspace = ?", (workspace, limit)) if workspace is not None else ("", (limit,))
        plans = self.store.fetch("SELECT id, workspace, instruction, summary, status, created, updated FROM plans "
                                 f"{where} ORDER BY created DESC LIMIT ?", params)  # on plans_workspace
        ids = [row[0] for row in plans]
        marks = ",".join("?" * len(ids))
        steps = {row[0]: row[1:] for row in self.store.fetch(
            f"SELECT plan_id, COUNT(*), COALESCE(SUM(status = 'done'), 0) FROM plan_steps WHERE plan_id IN ({marks}) "
            "GROUP BY plan_id", ids)} if ids else {}
        costs = {row[0]: row[1] for row in self.store.fetch(
            f"SELECT plan_id, COALESCE(SUM(cost_usd), 0.0) FROM plan_executions WHERE plan_id IN ({marks}) "
            "GROUP BY plan_id", ids)} if ids else {}
        return [PlanSummary(id=row[0], workspace=row[1], instruction=row[2], summary=row[3], status=row[4],
                            created=row[5], updated=row[6], steps_total=steps.get(row[0], (0, 0))[0],
                            steps_done=steps.get(row[0], (0, 0))[1], cost_usd=costs.get(row[0], 0.0))
                for row in plans]

    # -- live ---------------------------------------------------------------------------------------------
    def poll(self, cursor: Cursor) -> tuple[Cursor, Changes]:
        """What changed since ``cursor``, and the cursor after it. A text run that grew comes again (its
        row was replaced: a new rowid) with its longer text."""
        now = Cursor.now(self.store)
        events: list[StoredEvent] = []
        event_rowid = cursor.events
        if now.events > cursor.events:
            rows = self.store.fetch(f"SELECT rowid, session_id, seq, time, kind, {_DATA_SQL} FROM session_events "
                                    "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                                    (cursor.events, now.events, POLL_EVENTS))
            events = [StoredEvent(row[1], row[2], row[3], row[4], json.loads(row[5])) for row in rows]
            event_rowid = rows[-1][0] if rows else now.events
        ids: dict[str, None] = {}
        if now.sessions > cursor.sessions or now.ended > cursor.ended:
            for (session_id,) in self.store.fetch("SELECT id FROM sessions WHERE rowid > ? AND rowid <= ? "
                                                  "UNION SELECT id FROM sessions WHERE ended > ?",
                                                  (cursor.sessions, now.sessions, cursor.ended)):
                ids[session_id] = None
        if now.usage > cursor.usage:
            for (session_id,) in self.store.fetch("SELECT DISTINCT session_id FROM usage WHERE rowid > ? "
                                                  "AND rowid <= ?", (cursor.usage, now.usage)):
                ids[session_id] = None
        for event in events:  # an end seen before its row's end time was (a clock race between processes)
            if event.kind == "SessionEnded":
                ids[event.session_id] = None
        plans: dict[str, None] = {}
        if now.plans > cursor.plans or now.executions > cursor.executions or now.logs > cursor.logs:
            for (plan_id,) in self.store.fetch(
                    "SELECT id FROM plans WHERE updated > ? UNION SELECT plan_id FROM plan_executions WHERE rowid > ? "
                    "UNION SELECT plan_id FROM plan_logs WHERE rowid > ?", (cursor.plans, cursor.executions,
                                                                             cursor.logs)):
                plans[plan_id] = None
        checkpoints: list[tuple[str, str]] = []
        if now.checkpoints > cursor.checkpoints:
            checkpoints = [(row[0], row[1]) for row in self.store.fetch(
                "SELECT workspace, id FROM checkpoints WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                (cursor.checkpoints, now.checkpoints))]
        after = dataclasses.replace(now, events=event_rowid)
        return after, Changes(self._by_id(list(ids)), events, list(plans), checkpoints, event_rowid < now.events)
