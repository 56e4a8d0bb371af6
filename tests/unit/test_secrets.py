"""Secrets never written or shown: redaction of known values, and the audit log's edit payloads."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agentls import secrets
from agentls.config import load_settings
from agentls.logs import setup
from agentls.store.audit import AuditLog


def test_redact_known_values_shaped_keys_and_secret_named_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.register("proxy-key-0123456789")
    secrets.register("short")  # too short to redact safely
    secrets.register_environment({"GITHUB_TOKEN": "ghp_abcdefghijklmnop", "HOME": "/home/someone-long-name"})
    text = ("failed with proxy-key-0123456789 and sk-ant-api03-XYZ_abc and ghp_abcdefghijklmnop; "
            "short stays, /home/someone-long-name stays")
    assert secrets.redact(text) == ("failed with *** and sk-ant-*** and ***; "
                                    "short stays, /home/someone-long-name stays")


def test_the_configured_key_is_registered_whatever_its_shape(tmp_path: Path) -> None:
    load_settings(tmp_path, environ={"ANTHROPIC_API_KEY": "corp-gateway-key-42-abcdef"}, user_config=tmp_path / "x")
    assert secrets.redact("401: bad key corp-gateway-key-42-abcdef") == "401: bad key ***"


def test_log_lines_and_tracebacks_are_redacted(tmp_path: Path) -> None:
    secrets.register("log-secret-value-123")
    log_file = tmp_path / "agentls.log"
    setup("debug", str(log_file))
    logger = logging.getLogger("agentls.test")
    logger.warning("request failed: %s", "log-secret-value-123")
    try:
        raise RuntimeError("echoed log-secret-value-123")
    except RuntimeError:
        logger.exception("boom")
    setup("info", None)
    text = log_file.read_text()
    assert "log-secret-value-123" not in text
    assert "request failed: ***" in text
    assert "RuntimeError: echoed ***" in text


def test_the_audit_log_keeps_sizes_and_hashes_of_edit_text(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.record("tool_call", tool="str_replace_based_edit_tool",
                 input={"command": "str_replace", "path": "settings.py", "old_str": "PASSWORD = 'hunter2-long'",
                        "new_str": "PASSWORD = os.environ['PASSWORD']"})
    [entry] = audit.read()
    assert entry["input"]["path"] == "settings.py"
    assert entry["input"]["old_str"].startswith("<25 characters, sha256 ")
    assert "hunter2" not in (tmp_path / "audit.jsonl").read_text()
    kept = AuditLog(tmp_path / "kept.jsonl", keep_edit_text=True)
    kept.record("tool_call", input={"new_str": "x = 1"})
    assert kept.read()[0]["input"]["new_str"] == "x = 1"
