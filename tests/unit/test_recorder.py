"""The event recorder (``runtime/recorder.py``): off the session's thread, nothing lost at exit, text runs
visible while they grow, bounded per session, old events pruned."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentls.agent.events import ChangeProposed, ChangeResolved, EventBus, Notice, SessionEnded, ToolFinished
from agentls.providers.base import TextDelta, ThinkingDelta
from agentls.runtime.recorder import MAX_EVENTS_PER_SESSION, MAX_STRING, EventRecorder
from agentls.store.db import Store
from agentls.store.events import EventRow, EventStore

ENDED = SessionEnded("completed", "done", "", 1, 0.0)


def _recorder(store: Store, **kwargs: object) -> tuple[EventBus, EventRecorder]:
    bus = EventBus()
    recorder = EventRecorder(EventStore(store), **kwargs)  # type: ignore[arg-type]
    bus.subscribe(recorder)
    return bus, recorder


@pytest.mark.parametrize("ending", ["close() then os._exit", "no close: plain exit"])
def test_every_event_lands_when_the_process_exits_right_after_its_session(tmp_path: Path, ending: str) -> None:
    closing = "recorder.close()\nos._exit(0)" if ending.startswith("close") else "sys.exit(0)"
    script = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from agentls.agent.events import EventBus, Notice, SessionEnded
        from agentls.providers.base import TextDelta
        from agentls.runtime.recorder import EventRecorder
        from agentls.store.db import Store
        from agentls.store.events import EventStore

        bus = EventBus()
        recorder = EventRecorder(EventStore(Store(Path(sys.argv[1]))), batch_s=30)  # no batch before the exit
        bus.subscribe(recorder)
        for i in range(300):
            bus.publish("s", Notice(f"n{i}"))
            bus.publish("s", TextDelta("a"))
            bus.publish("s", TextDelta("b"))
        bus.publish("s", TextDelta("tail"))  # an open run: written only by the last flush
        """) + closing + "\n"
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "store.db")], check=True, timeout=60)
    store = Store(tmp_path / "store.db")
    stored = EventStore(store).events("s")
    assert len(stored) == 600
    assert [e.seq for e in stored] == list(range(600))
    assert stored[1].data == {"text": "ab"}
    assert stored[-1].data == {"text": "abtail"}
    store.close()


def test_publishing_never_waits_for_a_locked_database(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    bus, recorder = _recorder(store)
    blocker = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process writes for a while
    try:
        started = time.perf_counter()
        for i in range(1_000):
            bus.publish("s", Notice(f"event {i}"))
        bus.publish("s", ENDED)  # wakes the writer at once: it waits on the lock, not the publisher
        elapsed = time.perf_counter() - started
        time.sleep(0.5)
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    recorder.close()
    assert elapsed < 0.5
    stored = EventStore(store).events("s")
    assert len(stored) == 1_001
    assert stored[-1].kind == "SessionEnded"
    store.close()


def test_a_text_run_is_written_while_it_grows_under_one_seq(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    bus, recorder = _recorder(store, batch_s=0.05, run_s=0.1)
    events = EventStore(store)
    bus.publish("s", Notice("start"))
    bus.publish("s", ThinkingDelta("hmm"))
    bus.publish("s", TextDelta("Hello"))
    deadline = time.monotonic() + 5
    while [e.data for e in events.events("s")][-1:] != [{"text": "Hello"}] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [(e.seq, e.kind, e.data) for e in events.events("s")] == \
        [(0, "Notice", {"text": "start"}), (1, "ThinkingDelta", {"text": "hmm"}), (2, "TextDelta", {"text": "Hello"})]
    bus.publish("s", TextDelta(", world"))
    while events.events("s")[-1].data != {"text": "Hello, world"} and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [(e.seq, e.data) for e in events.events("s")][2:] == [(2, {"text": "Hello, world"})]
    bus.publish("s", ENDED)
    recorder.close()
    assert [e.kind for e in events.events("s")] == ["Notice", "ThinkingDelta", "TextDelta", "SessionEnded"]
    store.close()


def test_past_the_cap_one_truncated_event_counts_the_rest_and_the_end_is_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    bus, recorder = _recorder(store)
    for i in range(MAX_EVENTS_PER_SESSION + 40):
        bus.publish("s", Notice(str(i)))
    bus.publish("s", TextDelta("lost too"))
    bus.publish("s", ENDED)
    bus.publish("s", ChangeResolved("a.py", "p", (("h1", "accepted"),), True))  # after the end: dropped as well
    recorder.close()
    stored = EventStore(store).events("s")
    assert len(stored) == MAX_EVENTS_PER_SESSION + 2
    assert stored[MAX_EVENTS_PER_SESSION - 1].data == {"text": str(MAX_EVENTS_PER_SESSION - 1)}
    assert (stored[-2].kind, stored[-2].data) == ("Truncated", {"dropped": 42})
    assert stored[-1].kind == "SessionEnded"
    store.close()


def test_an_event_after_the_session_ended_follows_its_events(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    bus, recorder = _recorder(store)
    bus.publish("s", Notice("one"))
    bus.publish("s", ENDED)
    recorder.close()
    bus, recorder = _recorder(store)  # a review long after, in another process
    bus.publish("s", ChangeResolved("a.py", "p", (("h1", "accepted"),), True))
    recorder.close()
    assert [(e.seq, e.kind) for e in EventStore(store).events("s")] == \
        [(0, "Notice"), (1, "SessionEnded"), (2, "ChangeResolved")]
    store.close()


def test_long_strings_are_cut_and_a_change_may_be_larger(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    bus, recorder = _recorder(store)
    bus.publish("s", ToolFinished("t1", "run_command", "run", False, "x" * (MAX_STRING + 1_000)))
    bus.publish("s", ChangeProposed("big.py", "b" * 1_000_000, "a" * 3_000_000))
    bus.publish("s", ENDED)
    recorder.close()
    finished, change, _ = EventStore(store).events("s")
    assert finished.data["content"] == "x" * MAX_STRING + "… [1,000 more characters]"
    assert finished.data["name"] == "run_command"
    assert len(change.data["before"]) == 1_000_000
    assert (change.data["after"], change.data["too_large"]) == (None, True)
    store.close()


def test_old_events_are_pruned_when_the_recorder_starts(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    now = time.time()
    store.start_session("old", "/ws", "task", "long ago", "m")
    EventStore(store).write([EventRow("old", i, now - 100 * 86_400, "Notice", {"text": "old"}) for i in range(3)]
                            + [EventRow("new", 0, now - 80 * 86_400, "Notice", {"text": "kept"})])
    _, recorder = _recorder(store, retention_days=90)
    recorder.close()
    assert EventStore(store).events("old") == []
    assert [e.data for e in EventStore(store).events("new")] == [{"text": "kept"}]
    assert [s.session_id for s in store.sessions()] == ["old"]  # sessions are kept
    store.close()


def test_a_failing_write_logs_one_warning_and_the_rows_are_tried_again(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    store = Store(tmp_path / "store.db")
    events = EventStore(store)
    real_write, failures = events.write, [2]

    def flaky(rows: list[EventRow]) -> None:
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("database or disk is full")
        real_write(rows)

    events.write = flaky  # type: ignore[method-assign]
    bus, recorder = EventBus(), EventRecorder(events, batch_s=0.02)
    bus.subscribe(recorder)
    with caplog.at_level("WARNING", logger="agentls.runtime.recorder"):
        bus.publish("s", Notice("one"))
        time.sleep(0.1)  # two batches fail meanwhile
        bus.publish("s", ENDED)
        recorder.close()
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == \
        ["could not record 1 session events (tried again with the next ones)"]
    assert [e.kind for e in EventStore(store).events("s")] == ["Notice", "SessionEnded"]
    store.close()


def test_a_session_met_again_while_its_stored_events_cannot_be_read_overwrites_none(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    bus, recorder = _recorder(store)
    for number in range(5):
        bus.publish("s", Notice(f"original {number}"))
    recorder.close()
    events = EventStore(store)
    real_last_seq, failures = events.last_seq, [3]

    def flaky(session_id: str) -> int:
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real_last_seq(session_id)

    events.last_seq = flaky  # type: ignore[method-assign]
    bus, recorder = EventBus(), EventRecorder(events, batch_s=0.02)  # another process meets the session again
    bus.subscribe(recorder)
    bus.publish("s", Notice("later"))
    deadline = time.monotonic() + 10
    while failures[0] and time.monotonic() < deadline:  # batches meanwhile: the event waits, then goes after
        time.sleep(0.02)
    recorder.close()
    assert [(e.seq, e.data["text"]) for e in EventStore(store).events("s")] == \
        [*((n, f"original {n}") for n in range(5)), (5, "later")]
    assert failures == [0]
    store.close()
