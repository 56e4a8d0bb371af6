"""Which workspace-declared MCP servers the user trusts: per workspace, per exact definition.

A cloned repository's ``.mcp.json`` can run any command; so a server a workspace file declares starts
only once the user has trusted that workspace's server of that name with exactly that definition
(``ServerSpec.digest``): a changed definition asks again. The record lives in the user's data
directory (``trusted-mcp.json``), never in the workspace, so neither the repository nor the agent can
trust a server on the user's behalf. Servers from the user's own settings are always trusted.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from agentls.atomic import replace_atomically
from agentls.mcp.sources import ServerSpec
from agentls.paths import data_dir

_LOCK = threading.Lock()


def trust_path() -> Path:
    return data_dir() / "trusted-mcp.json"


def _read() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(trust_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    workspaces = data.get("workspaces") if isinstance(data, dict) else None
    if not isinstance(workspaces, dict):
        return {}
    return {root: {name: digest for name, digest in servers.items() if isinstance(digest, str)}
            for root, servers in workspaces.items() if isinstance(servers, dict)}


def _write(workspaces: dict[str, dict[str, str]]) -> None:
    path = trust_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, json.dumps({"workspaces": workspaces}, indent=1, sort_keys=True).encode(), 0o600)


def is_trusted(root: Path | None, spec: ServerSpec) -> bool:
    """Whether ``spec`` may start: the user's own, or trusted in ``root`` exactly as it is."""
    if not spec.from_workspace:
        return True
    if root is None:
        return False
    return _read().get(os.path.realpath(root), {}).get(spec.name) == spec.digest()


def trust(root: Path, spec: ServerSpec) -> None:
    with _LOCK:
        workspaces = _read()
        workspaces.setdefault(os.path.realpath(root), {})[spec.name] = spec.digest()
        _write(workspaces)


def forget(root: Path, name: str) -> bool:
    """Withdraw the trust in server ``name`` of ``root``; whether there was any."""
    with _LOCK:
        workspaces = _read()
        if workspaces.get(os.path.realpath(root), {}).pop(name, None) is None:
            return False
        _write(workspaces)
        return True
