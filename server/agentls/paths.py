"""Where agentls keeps its own files (never inside the user's workspace)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``AGENTLS_DATA_DIR``, else the platform's user data dir (``~/.local/share/agentls``)."""
    override = os.environ.get("AGENTLS_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("agentls", appauthor=False))


def store_path() -> Path:
    return data_dir() / "agentls.db"


def audit_path() -> Path:
    return data_dir() / "audit.jsonl"
