"""Which workspace config files the user trusts (a leaf module: paths and the file system only).

A repository anyone can clone may ship an ``agentls.toml``. Its harmless settings (the model's name,
token budgets of the context) apply at once; the ones that can hurt the user (where the API key is sent,
what commands may run, the deny-list, checkpoints, log paths: ``config.SENSITIVE``) apply only once the
user has trusted that file, by its exact content: any change to the file asks again. The record lives
in the user's data directory, never in the workspace, so neither the repository nor the agent (whose
writes stay inside the workspace) can trust a file on the user's behalf.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from agentls.atomic import replace_atomically
from agentls.paths import data_dir


def trust_path() -> Path:
    return data_dir() / "trusted-configs.json"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _key(config: Path) -> str:
    return os.path.realpath(config)


def _read() -> dict[str, str]:
    try:
        data = json.loads(trust_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    trusted = data.get("trusted") if isinstance(data, dict) else None
    return {k: v for k, v in trusted.items() if isinstance(v, str)} if isinstance(trusted, dict) else {}


def is_trusted(config: Path, content: bytes) -> bool:
    """Whether the user trusted ``config`` with exactly this content."""
    return _read().get(_key(config)) == digest(content)


def trust(config: Path, content: bytes) -> None:
    """Record that the user trusts ``config`` as it is now (``content``)."""
    trusted = _read()
    trusted[_key(config)] = digest(content)
    path = trust_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, json.dumps({"trusted": trusted}, indent=1, sort_keys=True).encode(), 0o600)


def forget(config: Path) -> bool:
    """Withdraw the trust in ``config``; whether there was any."""
    trusted = _read()
    if trusted.pop(_key(config), None) is None:
        return False
    replace_atomically(trust_path(), json.dumps({"trusted": trusted}, indent=1, sort_keys=True).encode(), 0o600)
    return True
