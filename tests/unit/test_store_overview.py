"""The dashboard's queries (``store/overview.py``) over a real store: migration, keyset paging, interrupted
sessions, change states, usage, and polling for what changed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentls.store.db import MIGRATIONS, CheckpointRecord, Store
from agentls.store.events import EventRow, EventStore
from agentls.store.live_cursor import Cursor
from agentls.store.overview import Overview
from agentls.store.plans import PlanStore, StepRow, owner_token


def _dead_owner() -> str:
    """The owner token of a process that has ended (spawned and reaped here)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    token = owner_token(child.pid)
    assert token.split(":")[1], "needs /proc for a start time"
    child.wait()
    return token


def _session(store: Store, session_id: str, started: float, *, workspace: str = "/ws", status: str = "ok",
             instruction: str = "do it", owner: str = "", frontend: str = "cli") -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO sessions (id, workspace, kind, instruction, model, started, ended, status, frontend, "
                   "owner) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (session_id, workspace, "task", instruction, "m", started,
                    None if status == "running" else started + 10, status, frontend, owner))


def test_migration_from_version_4_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in (s for migration in MIGRATIONS[:4] for s in migration):
        db.execute(statement)
    db.execute("PRAGMA user_version = 4")
    db.execute("INSERT INTO sessions (id, workspace, kind, instruction, model, started) VALUES "
               "('old', '/ws', 'task', 'before', 'm', 1.0)")
    db.execute("INSERT INTO usage VALUES ('old', 1, 'm', 2.0, 10, 5, 0, 0, 0.5)")
    db.close()
    store = Store(path)
    try:
        assert store.fetch("PRAGMA user_version")[0][0] == len(MIGRATIONS) == 6
        assert store.fetch("SELECT id, frontend, owner FROM sessions") == [("old", "", "")]
        assert [s.cost_usd for s in store.sessions()] == [0.5]  # agentls usage still reads it
        store.start_session("new", "/ws", "run", "after", "m", frontend="vscode", owner=owner_token())
        store.start_session("plain", "/ws", "run", "old caller", "m")
        row = Overview(store).session("new")
        assert row is not None
        assert (row.frontend, row.status, row.live) == ("vscode", "running", True)
        indexes = {r[0] for r in store.fetch("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"sessions_started", "sessions_status", "usage_time", "checkpoints_time",
                "plan_executions_session"} <= indexes
    finally:
        store.close()


def test_keyset_paging_returns_every_session_once_in_order_with_filters_and_total(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    overview = Overview(store)
    base = 1_700_000_000.0
    for i in range(120):  # pairs share a start time: the id breaks the tie
        _session(store, f"s{i:03}", base + i // 2, workspace="/a" if i % 3 else "/b",
                 status="error" if i % 10 == 0 else "ok", instruction=f"Fix BUG {i}" if i % 4 == 0 else "refactor")
    store.record_usage("s119", 1, "m", 100, 10, 0, 50, 0.25)
    store.record_usage("s119", 2, "m", 100, 10, 0, 50, 0.25)
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor, total = overview.sessions_page(limit=7, cursor=cursor)
        assert total == 120
        seen.extend(rows)
        pages += 1
        if cursor is None:
            break
    assert pages == 18
    assert [r.id for r in seen] == sorted((f"s{i:03}" for i in range(120)), reverse=True)
    assert (seen[0].turns, seen[0].cost_usd, seen[0].cache_read_tokens) == (2, 0.5, 100)
    assert seen[1].turns == 0
    for kwargs, expected in (({"workspace": "/b"}, [i for i in range(120) if i % 3 == 0]),
                             ({"status": "error"}, [i for i in range(120) if i % 10 == 0]),
                             ({"text": "bug"}, [i for i in range(120) if i % 4 == 0]),
                             ({"text": "bug", "workspace": "/a"}, [i for i in range(120) if i % 4 == 0 and i % 3])):
        ids, cursor = [], None
        while True:
            rows, cursor, total = overview.sessions_page(limit=5, cursor=cursor, **kwargs)  # type: ignore[arg-type]
            assert total == len(expected)
            ids.extend(r.id for r in rows)
            if cursor is None:
                break
        assert ids == [f"s{i:03}" for i in reversed(expected)], kwargs
    assert overview.sessions_page(text="100%")[2] == 0  # LIKE's wildcards are literal
    store.close()


def test_a_running_session_whose_process_is_gone_is_interrupted(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    overview = Overview(store)
    now = time.time()
    _session(store, "mine", now - 5, status="running", owner=owner_token())
    _session(store, "crashed", now - 4, status="running", owner=_dead_owner())
    _session(store, "old-unowned", now - 7 * 3600, status="running")
    _session(store, "new-unowned", now - 60, status="running")
    _session(store, "done", now - 3, status="ok", owner=_dead_owner())
    rows = {r.id: (r.status, r.live) for r in overview.sessions_page()[0]}
    assert rows == {"mine": ("running", True), "crashed": ("interrupted", False),
                    "old-unowned": ("interrupted", False), "new-unowned": ("running", False),
                    "done": ("ok", False)}
    running, _, total = overview.sessions_page(status="running")
    assert ([r.id for r in running], total) == (["mine", "new-unowned"], 2)
    first, cursor, total = overview.sessions_page(status="interrupted", limit=1)
    assert ([r.id for r in first], total) == (["crashed"], 2)
    assert cursor is not None
    second, cursor, _ = overview.sessions_page(status="interrupted", limit=1, cursor=cursor)
    assert ([r.id for r in second], cursor) == (["old-unowned"], None)
    store.close()


def test_changes_fold_hunk_states_of_the_last_proposal_per_path(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    events = EventStore(store)
    rows = [("ChangeProposed", {"path": "a.py", "before": "old a", "after": "first a"}),
            ("ChangeResolved", {"path": "a.py", "proposal_id": "p0", "hunks": [["h1", "rejected"]], "resolved": True}),
            ("ChangeProposed", {"path": "a.py", "before": "old a", "after": "new a"}),  # a new proposal: states reset
            ("ChangeProposed", {"path": "b.py", "before": None, "after": "b"}),
            ("ChangeProposed", {"path": "c.py", "before": "c", "after": "cc"}),
            ("ChangeProposed", {"path": "d.py", "before": "d", "after": "dd"}),
            ("ChangeProposed", {"path": "e.py", "before": "e", "after": "ee"}),
            ("ChangeProposed", {"path": "f.py", "before": "f", "after": "ff"}),
            ("ChangeResolved", {"path": "a.py", "proposal_id": "p1", "hunks": [["h1", "accepted"]], "resolved": False}),
            ("ChangeResolved", {"path": "a.py", "proposal_id": "p1", "hunks": [["h2", "accepted"]], "resolved": True}),
            ("ChangeResolved", {"path": "c.py", "proposal_id": "p3", "hunks": [["h1", "accepted"], ["h2", "rejected"]],
                                "resolved": True}),
            ("ChangeResolved", {"path": "d.py", "proposal_id": "p4", "hunks": [["h1", "conflict"]], "resolved": False}),
            ("ChangeResolved", {"path": "e.py", "proposal_id": "p5", "hunks": [["h1", "rejected"]], "resolved": True}),
            ("ChangeResolved", {"path": "f.py", "proposal_id": "p6", "hunks": [["h1", "stale"]], "resolved": False})]
    events.write([EventRow("s", seq, 1.0 + seq, kind, data) for seq, (kind, data) in enumerate(rows)])
    overview = Overview(store)
    changes = {c.path: c for c in overview.changes("s")}
    assert {p: c.state for p, c in changes.items()} == {"a.py": "accepted", "b.py": "proposed", "c.py": "partial",
                                                        "d.py": "conflict", "e.py": "rejected", "f.py": "stale"}
    assert (changes["a.py"].before, changes["a.py"].after, changes["a.py"].hunks) == \
        ("old a", "new a", {"h1": "accepted", "h2": "accepted"})
    assert changes["b.py"].before is None
    served = overview.events("s", after_seq=2, limit=2)
    assert [(e.seq, e.data) for e in served] == [(3, {"path": "b.py"}), (4, {"path": "c.py"})]  # texts left out
    store.close()


def test_usage_by_day_model_and_workspace_with_the_cache_share(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    day = 86_400
    noon = time.mktime(time.strptime("2026-11-20 12:00", "%Y-%m-%d %H:%M"))  # local noon
    rows = [("a", "/one", noon, "opus", 100, 10, 20, 80, 1.0), ("a", "/one", noon + 60, "haiku", 50, 5, 0, 50, 0.1),
            ("b", "/two", noon + day, "opus", 200, 20, 0, 0, 2.0),
            ("c", "/two", noon - 40 * day, "opus", 9, 9, 9, 9, 9)]
    with store.transaction() as db:
        for session_id, workspace, when, *_ in rows:
            db.execute("INSERT OR IGNORE INTO sessions (id, workspace, kind, instruction, model, started) "
                       "VALUES (?,?,?,?,?,?)", (session_id, workspace, "task", "x", "opus", when))
        db.executemany("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?)",
                       [(s, 1, model, when, *numbers) for s, _, when, model, *numbers in rows])
    report = Overview(store).usage(since=noon - 10 * day)
    assert [(d["day"], d["sessions"], d["cost_usd"], d["input_tokens"]) for d in report["days"]] == \
        [("2026-11-20", 1, 1.1, 150), ("2026-11-21", 1, 2.0, 200)]
    assert [(m["model"], m["cost_usd"], m["sessions"]) for m in report["models"]] == \
        [("opus", 3.0, 2), ("haiku", 0.1, 1)]
    assert [(w["workspace"], w["cost_usd"]) for w in report["workspaces"]] == [("/two", 2.0), ("/one", 1.1)]
    total = report["total"]
    assert (total["input_tokens"], total["cache_write_tokens"], total["cache_read_tokens"], total["sessions"]) == \
        (350, 20, 130, 2)
    assert total["cache_read_share"] == pytest.approx(130 / 500)
    only_two = Overview(store).usage(since=0, workspace="/two")
    assert [w["workspace"] for w in only_two["workspaces"]] == ["/two"]
    assert only_two["total"]["cost_usd"] == pytest.approx(11.0)
    assert Overview(store).workspaces() == ["/two", "/one"]
    store.close()


def test_poll_sees_sessions_events_growing_text_ends_checkpoints_and_plans(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    overview, events, plans = Overview(store), EventStore(store), PlanStore(store)
    plan_id = plans.create("/ws", "plan it", "", [StepRow("1", 0, None, "step one")])
    _session(store, "before", time.time() - 100)
    cursor = Cursor.now(store)
    assert Cursor.parse(str(cursor)) == cursor
    assert len(str(cursor)) < 120
    cursor, changes = overview.poll(cursor)
    assert not changes

    store.start_session("s1", "/ws", "task", "go", "m", frontend="cli", owner=owner_token())
    events.write([EventRow("s1", 0, 1.0, "TurnStarted", {"turn": 1}),
                  EventRow("s1", 1, 1.1, "TextDelta", {"text": "Hel"})])
    cursor, changes = overview.poll(cursor)
    assert [(s.id, s.status, s.live) for s in changes.sessions] == [("s1", "running", True)]
    assert [(e.seq, e.kind) for e in changes.events] == [(0, "TurnStarted"), (1, "TextDelta")]

    events.write([EventRow("s1", 1, 1.1, "TextDelta", {"text": "Hello, world"})])  # the run grew: same seq
    cursor, changes = overview.poll(cursor)
    assert [(e.seq, e.data) for e in changes.events] == [(1, {"text": "Hello, world"})]
    assert changes.sessions == []

    store.record_usage("s1", 1, "m", 10, 1, 0, 0, 0.01)
    cursor, changes = overview.poll(cursor)
    assert [(s.id, s.turns) for s in changes.sessions] == [("s1", 1)]

    events.write([EventRow("s1", 2, 2.0, "ChangeProposed", {"path": "a.py", "before": "x", "after": "y"})])
    store.end_session("s1", "completed", "done")
    store.add_checkpoint(CheckpointRecord("c1", "/ws", "s1", 1, time.time(), "edit", "", ["a.py"]))
    plans.set_step_status(plan_id, ["1"], "done")
    cursor, changes = overview.poll(cursor)
    assert [(s.id, s.status, s.ended is not None) for s in changes.sessions] == [("s1", "completed", True)]
    assert [(e.kind, e.data) for e in changes.events] == [("ChangeProposed", {"path": "a.py"})]
    assert (changes.checkpoints, changes.plans) == ([("/ws", "c1")], [plan_id])

    execution = plans.start_execution(plan_id, "1", "coder")
    cursor, changes = overview.poll(cursor)
    assert changes.plans == [plan_id]
    execution.cost_usd, execution.status = 0.5, "done"
    plans.save_execution(execution)
    plans.set_step_status(plan_id, ["1"], "done")
    cursor, changes = overview.poll(Cursor.parse(str(cursor)))
    assert changes.plans == [plan_id]
    summary = overview.plans_page("/ws")[0]
    assert (summary.steps_total, summary.steps_done, summary.cost_usd) == (1, 1, 0.5)
    assert not overview.poll(cursor)[1]

    events.write([EventRow("s2", i, 3.0, "Notice", {"text": str(i)}) for i in range(700)])  # bounded per poll
    cursor, first = overview.poll(cursor)
    cursor, second = overview.poll(cursor)
    assert (len(first.events), first.more, len(second.events), second.more) == (500, True, 200, False)
    store.close()


def test_recent_errors_and_retries_of_the_last_hour(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    now = time.time()
    _session(store, "bad", now - 50, status="failed")  # what a session that failed ends as
    store.end_session("bad", "failed", "the model API failed")
    _session(store, "old", now - 90, status="error")  # what older stores hold
    store.end_session("old", "error", "overloaded")
    _session(store, "fine", now - 40, status="completed")
    _session(store, "busy", now - 30, status="running", owner=owner_token())
    EventStore(store).write([EventRow("busy", 0, now - 20, "Retrying", {"attempt": 1}),
                             EventRow("busy", 1, now - 7200, "Retrying", {"attempt": 2})])
    errors, retries = Overview(store).recent_errors()
    assert [(e["session_id"], e["text"]) for e in errors] == [("bad", "the model API failed"), ("old", "overloaded")]
    assert retries == 1
    store.close()


@pytest.mark.parametrize("text", ["0_0_99999999999999999999999_0.0_0.0_0_0_0", "0_0_0_nan_0.0_0_0_0",
                                  "0_0_0_inf_0.0_0_0_0", "-1_0_0_0.0_0.0_0_0_0", "0_0_0_0.0_0.0_0_0",
                                  "a_0_0_0.0_0.0_0_0_0", "0_0_0_1e400_0.0_0_0_0"])
def test_a_cursor_out_of_range_is_no_cursor(text: str) -> None:
    """SQLite takes 64-bit integers: a bigger one would fail every poll after it."""
    with pytest.raises(ValueError, match="not a store cursor"):
        Cursor.parse(text)


def test_a_reader_resumes_at_most_a_bounded_way_back_and_never_ahead() -> None:
    now = Cursor(events=50_000, usage=100, sessions=9_000, ended=1_000_000.0, plans=5.0, executions=3,
                 logs=0, checkpoints=7)
    assert Cursor().within(now) == Cursor(events=48_000, usage=0, sessions=7_000, ended=996_400.0, plans=0.0,
                                          executions=0, logs=0, checkpoints=0)
    recent = Cursor(events=49_990, usage=99, sessions=8_999, ended=999_999.0, plans=5.0, executions=3,
                    logs=0, checkpoints=7)
    assert recent.within(now) == recent
    ahead = Cursor(events=60_000, usage=100, sessions=9_000, ended=2e6, plans=5.0, executions=3, logs=0,
                   checkpoints=9)
    assert ahead.within(now) == now


def test_a_new_store_is_for_its_user_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    store.start_session("s", "/ws", "run", "go", "m")
    assert (tmp_path / "store.db").stat().st_mode & 0o777 == 0o600
    assert all(p.stat().st_mode & 0o077 == 0 for p in tmp_path.glob("store.db*"))
    store.close()
