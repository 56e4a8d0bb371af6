"""The audit log: JSON lines, truncated inputs, no API key, safe concurrent appends."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from agentls.store.audit import AuditLog

KEY = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789_-XYZ"


def test_lines_fields_truncation_and_no_key(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "logs" / "audit.jsonl", max_string=100)
    log.record(
        "tool_call",
        session="s1",
        tool="str_replace_based_edit_tool",
        input={"command": "create", "file_text": "x" * 1_000, "note": f"key={KEY}", "api_key": "plain"},
        is_error=False,
        path="a.py",
    )
    log.record("file_written", session="s1", tool="t", path="a.py", detail=[KEY])
    raw = (tmp_path / "logs" / "audit.jsonl").read_text()
    assert KEY not in raw
    assert "plain" not in raw
    assert "sk-ant-***" in raw
    first, second = (json.loads(line) for line in raw.splitlines())
    assert set(first) >= {"time", "session", "event", "tool", "input", "is_error", "path"}
    assert first["event"] == "tool_call"
    assert first["path"] == "a.py"
    assert first["is_error"] is False
    assert first["input"]["file_text"].startswith("<1,000 characters, sha256 ")  # edit text: size and hash
    assert first["input"]["note"].startswith("key=sk-ant-***")
    assert first["input"]["api_key"] == "***"
    assert second["detail"] == ["sk-ant-***"]


def test_concurrent_appends_stay_whole_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")

    def writer(n: int) -> None:
        for i in range(50):
            log.record("tool_call", session=f"s{n}", tool="t", input={"i": i, "pad": "y" * 500})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = log.read()
    assert len(entries) == 400
    assert {e["session"] for e in entries} == {f"s{n}" for n in range(8)}


def test_unwritable_log_does_not_raise(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    AuditLog(tmp_path / "file" / "audit.jsonl").record("tool_call")  # logged as a warning, no exception
