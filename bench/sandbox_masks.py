"""The sandbox's workspace masks: how long listing the deny-listed files takes on a large tree.

    python bench/sandbox_masks.py [--files 100000] [--runs 5]

A synthetic tree of ``--files`` empty files (directories of 50), half of them under a gitignored
``node_modules/``, with a few deny-listed files (one inside ``node_modules``, one at the end). Measured:
``workspace_masks`` with ripgrep + find (what runs when both are installed), the same with the pure
Python walk (the fallback), and the walk it replaced (kept below for comparison: it pruned ignored
directories and stopped after 20,000 entries, so it missed both secrets; also timed without the cap).
Figures: median and min-max over the runs, in milliseconds; whether each found both secrets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from agentls.agent.tools import sandbox_masks
from agentls.agent.workspace import Workspace


def previous_walk(workspace: Workspace, limit: int = 20_000) -> list[Path]:
    """The walk before: ignored directories pruned, at most ``limit`` entries; the denied files."""
    files: list[Path] = []
    seen = 0
    for current, subdirs, names in os.walk(workspace.root):
        base = Path(current)
        rel_base = workspace.relative(base)
        prefix = "" if rel_base == "." else rel_base + "/"
        subdirs[:] = [name for name in sorted(subdirs) if name != ".git"
                      and not workspace.is_denied(prefix + name, is_dir=True)
                      and not workspace.is_ignored(prefix + name, is_dir=True)]  # fmt: skip
        files += [base / name for name in names if workspace.is_denied(prefix + name)]
        seen += len(names) + len(subdirs)
        if seen > limit:
            break
    return files


def build(root: Path, count: int) -> list[Path]:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("node_modules/\n")
    for number in range(count // 50):
        base = root / ("node_modules" if number % 2 else "src") / f"d{number:05d}"
        base.mkdir(parents=True)
        for index in range(50):
            (base / f"f{index}.js").touch()
    secrets = [root / "node_modules" / "d00001" / ".env", root / "src" / f"d{count // 50 - 2:05d}" / ".env"]
    for secret in secrets:
        secret.write_text("S=1\n")
    return secrets


def timed(runs: int, call: Callable[[], object]) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        secrets = build(root, options.files)
        workspace = Workspace(root)

        def python_walk() -> sandbox_masks.Masks:
            with mock.patch.object(sandbox_masks.shutil, "which", return_value=None):
                return sandbox_masks.workspace_masks(workspace)

        cases: list[tuple[str, Callable[[], object]]] = [
            ("rg + find (new)", lambda: sandbox_masks.workspace_masks(workspace).files),
            ("python walk (new fallback)", lambda: python_walk().files),
            ("previous walk, capped at 20,000", lambda: previous_walk(workspace)),
            ("previous walk, no cap", lambda: previous_walk(workspace, limit=10**9)),
        ]
        print(f"{options.files:,} files, {options.runs} runs (ms: median, min-max)")
        for name, call in cases:
            times, found = timed(options.runs, call)
            assert isinstance(found, list)
            hidden = sum(secret in found for secret in secrets)
            print(f"  {name:34} {statistics.median(times):8.0f}  {min(times):6.0f}-{max(times):<6.0f} "
                  f"secrets hidden: {hidden}/{len(secrets)}")  # fmt: skip


if __name__ == "__main__":
    main()
