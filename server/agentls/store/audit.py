"""Audit log: one JSON object per line for every tool call and every file the agent writes.

``{"time", "session", "event", "tool", "input", "is_error", "path", ...}``: ``event`` is
``"tool_call"``, ``"file_written"``, ``"command_run"``, ...; long strings in ``input`` are cut; an
Anthropic key (``sk-ant-...``) or a value under a key named like a secret never reaches the file.
Appends are serialised with a lock and each line is one ``write`` on an ``O_APPEND`` file, so
threads, asyncio tasks and other processes can share the log.
"""

from __future__ import annotations

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

_KEY = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")
_SECRET_NAMES = re.compile(r"api[_-]?key|authorization|password|secret|token", re.IGNORECASE)
MAX_STRING = 2_000


def mask_secrets(text: str) -> str:
    return _KEY.sub("sk-ant-***", text)


def _clean(value: Any, max_string: int, depth: int = 0) -> Any:
    if isinstance(value, str):
        if len(value) > max_string:
            value = f"{value[:max_string]}… [{len(value) - max_string:,} more characters]"
        return mask_secrets(value)
    if depth > 8:
        return "…"
    if isinstance(value, Mapping):
        return {
            str(key): "***" if _SECRET_NAMES.search(str(key)) else _clean(item, max_string, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(item, max_string, depth + 1) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_secrets(repr(value))


class AuditLog:
    """Append-only JSON-lines audit log at ``path`` (parent directories are created)."""

    def __init__(self, path: Path, *, max_string: int = MAX_STRING) -> None:
        self.path = path
        self.max_string = max_string
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
            "input": _clean(dict(input), self.max_string) if input is not None else None,
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
