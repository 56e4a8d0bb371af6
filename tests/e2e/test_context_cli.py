"""``agentls context FILE:LINE``: the assembled context of an edit, with token counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_context_lsp import BILLING, CHECKOUT


def agentls(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(XDG_CONFIG_HOME=str(home / "config"), AGENTLS_DATA_DIR=str(home / "data"))
    return subprocess.run([sys.executable, "-m", "agentls", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False, cwd=cwd)


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "shop").mkdir(parents=True)
    (root / "billing.py").write_text(BILLING)
    (root / "shop" / "checkout.py").write_text(CHECKOUT)
    (root / "AGENTS.md").write_text("Money is in cents.\n")
    return root


def test_context_prints_each_part_with_its_tokens(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    done = agentls(tmp_path / "home", "context", "--workspace", str(root), "shop/checkout.py:5",
                   "--instruction", "round the total")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Context for shop/checkout.py (python): ")
    for part in ("scope", "imports", "definitions", "repo_map", "memory"):
        assert f"── {part}: " in out
    assert "billing.py:4 (function compute_invoice_total)" in out
    assert "Money is in cents." in out
    assert "index: 2 files (2 re-indexed)" in done.stderr
    again = agentls(tmp_path / "home", "context", "--workspace", str(root), "shop/checkout.py:5")
    assert "index: 2 files (0 re-indexed)" in again.stderr  # the second run only checks stamps


def test_context_json_counts_tokens_within_budgets(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    done = agentls(tmp_path / "home", "context", "--json", "--map-tokens", "40", "shop/checkout.py:4-6",
                   cwd=root)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    parts = {p["name"]: p for p in found["parts"]}
    assert parts["repo_map"]["budget"] == 40
    assert 0 < parts["repo_map"]["tokens"] <= 40
    assert found["names"][0] == "compute_invoice_total"
    assert found["tokens"] == sum(p["tokens"] for p in found["parts"] if p["name"] != "memory")


def test_context_refuses_a_file_outside_the_workspace(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    done = agentls(tmp_path / "home", "context", "--workspace", str(root), f"{outside}:1")
    assert done.returncode == 2
    assert "is not a file inside" in done.stderr
    done = agentls(tmp_path / "home", "context", "--workspace", str(root), "shop/checkout.py:99")
    assert done.returncode == 2
    assert "outside it" in done.stderr
