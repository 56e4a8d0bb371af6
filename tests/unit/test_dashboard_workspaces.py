"""The dashboard's per-workspace reads (``dashboard/workspaces.py``) that need no server around them."""

from __future__ import annotations

from pathlib import Path

from agentls.checkpoints.shadow_files import shadow_dir
from agentls.dashboard.workspaces import DU_TTL_S, Workspaces
from agentls.store.db import Store


def test_checkpoint_disk_use_is_walked_once_per_ttl(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    data = tmp_path / "data"
    now = [1000.0]
    spaces = Workspaces(Store(tmp_path / "store.db"), data, lambda: [str(workspace)], clock=lambda: now[0])

    assert spaces.checkpoints_bytes(str(workspace)) is None  # no checkpoint yet: nothing on disk
    shadow = shadow_dir(data, workspace)
    shadow.mkdir(parents=True)
    (shadow / "a").write_bytes(b"x" * 10_000)
    now[0] += DU_TTL_S  # the "none yet" answer is not kept past its time
    first = spaces.checkpoints_bytes(str(workspace))
    assert first is not None
    assert first >= 10_000

    (shadow / "b").write_bytes(b"y" * 50_000)
    now[0] += DU_TTL_S / 2
    assert spaces.checkpoints_bytes(str(workspace)) == first  # reused: not walked again
    now[0] += DU_TTL_S / 2
    second = spaces.checkpoints_bytes(str(workspace))
    assert second is not None
    assert second >= first + 50_000
