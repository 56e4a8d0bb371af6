"""Audit log: one JSON object per line for every tool call and every file the agent writes.

``{"time", "session", "event", "tool", "input", "is_error", "path", ...}``: ``event`` is
``"tool_call"``, ``"file_written"``, ``"command_run"``, ...; long strings in ``input`` are cut; no known
secret (``agentls.secrets``) nor a value under a key named like a secret reaches the file. The text of an
edit (``old_str``, ``new_str``, ``file_text``...) is recorded as its size and SHA-256 only, since it may
hold anything the file held, passwords included, unless ``keep_edit_text`` is set.
Appends are serialised with a lock and each line is one ``write`` on an ``O_APPEND`` file, so
threads, asyncio tasks and other processes can share the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SECRET_NAMES = re.compile(r"api[_-]?key|authorization|password|secret|token", re.IGNORECASE)
#: Tool input fields that carry file text.
EDIT_TEXT = frozenset({"old_str", "new_str", "file_text", "new_text", "old_text", "insert_text", "content"})
MAX_STRING = 2_000


def mask_secrets(text: str) -> str:
    from agentls.secrets import redact

    return redact(text)


def digest_of(text: str) -> str:
    """What the audit log keeps of an edit's text: its size and hash (enough to match it to a file later)."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"<{len(text):,} characters, sha256 {digest[:16]}>"


def _clean(value: Any, max_string: int, depth: int = 0, keep_edit_text: bool = True) -> Any:
    if isinstance(value, str):
        if len(value) > max_string:
            value = f"{value[:max_string]}… [{len(value) - max_string:,} more characters]"
        return mask_secrets(value)
    if depth > 8:
        return "…"
    if isinstance(value, Mapping):
        return {
            str(key): "***" if _SECRET_NAMES.search(str(key))
            else digest_of(item) if not keep_edit_text and key in EDIT_TEXT and isinstance(item, str)
            else _clean(item, max_string, depth + 1, keep_edit_text)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(item, max_string, depth + 1) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_secrets(repr(value))


class AuditLog:
    """Append-only JSON-lines audit log at ``path`` (parent directories are created)."""

    def __init__(self, path: Path, *, max_string: int = MAX_STRING, keep_edit_text: bool = False) -> None:
        self.path = path
        self.max_string = max_string
        self.keep_edit_text = keep_edit_text
        self._lock = threading.Lock()

    def record(
        self,
        event: str,
        *,
        session: str = "",
        tool: str | None = None,
        input: Mapping[str, Any] | None = None,
        is_error: bool | None = None,
        path: str | None = None,
        **extra: Any,
    ) -> None:
        """Append one event. A failure to write is logged, never raised: auditing must not break a tool."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "session": session,
            "event": event,
            "tool": tool,
            "input": _clean(dict(input), self.max_string, keep_edit_text=self.keep_edit_text)
            if input is not None else None,
            "is_error": is_error,
            "path": path,
        }
        for key, value in extra.items():
            entry[key] = "***" if _SECRET_NAMES.search(key) else _clean(value, self.max_string)
        line = mask_secrets(json.dumps(entry, ensure_ascii=False, default=repr)) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
            except OSError as exc:
                log.warning("audit log %s could not be written: %s", self.path, exc)

    def read(self) -> list[dict[str, Any]]:
        """Every entry, oldest first (for tests and ``agentls`` commands that show the log)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
