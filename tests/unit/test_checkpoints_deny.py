"""Deny-listed and protected files never land in the shadow history, gitignored or not."""

from __future__ import annotations

import subprocess
from pathlib import Path

from agentls.checkpoints import Checkpoints
from agentls.config import DEFAULT_DENY
from agentls.store.db import Store
from tests.unit.test_checkpoints_support import (  # noqa: F401  (fixtures)
    complete,
    data_dir,
    store,
    workspace,
    write,
)

SECRETS = [".env", "config/.env.local", ".git-credentials", "deploy/id_ed25519", "certs/server.pem"]


def test_secrets_are_never_captured(workspace: Path, data_dir: Path, store: Store) -> None:  # noqa: F811
    for rel in SECRETS:
        write(workspace, rel, "TOKEN=sk-live-123\n")
    checkpoints = Checkpoints(workspace, data_dir=data_dir, store=store, deny=DEFAULT_DENY)
    try:
        whole = checkpoints.checkpoint(None, trigger="manual")
        assert "a.txt" in whole.files
        assert not set(SECRETS) & set(whole.files)
        named = checkpoints.checkpoint([".env", "a.txt"], trigger="edit")
        assert named.files == ["a.txt"]
        complete(checkpoints)
        repo = next(p.parent for p in data_dir.rglob("HEAD") if p.parent.name == "repo")
        every_object = subprocess.run(["git", "--git-dir", str(repo), "cat-file", "--batch-all-objects", "--batch"],
                                      capture_output=True, check=True).stdout
        assert b"a.txt" in every_object  # the trees are there
        assert b"sk-live-123" not in every_object  # no blob of a secret, loose or packed
        write(workspace, ".env", "TOKEN=changed\n")
        write(workspace, "a.txt", "edited\n")
        checkpoints.restore(whole.id)
        assert (workspace / ".env").read_text() == "TOKEN=changed\n"  # never restored either
        assert (workspace / "a.txt").read_text() == "alpha\n"
    finally:
        checkpoints.close()
