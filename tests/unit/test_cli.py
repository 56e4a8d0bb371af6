"""The ``agentls`` command line: --version and doctor (run as a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agentls import __version__


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentls", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60, check=False)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env.update(extra)
    return env


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"agentls {__version__}"


def test_no_command_prints_help_and_fails() -> None:
    result = run()
    assert result.returncode == 2
    assert "serve" in result.stderr
    assert "doctor" in result.stderr


def test_doctor_reports_a_missing_api_key(tmp_path: Path) -> None:
    result = run("doctor", "--json", "--workspace", str(tmp_path), env=clean_env(tmp_path))
    assert result.returncode == 1, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["api key"]["status"] == "missing"
    assert "ANTHROPIC_API_KEY" in checks["api key"]["hint"]
    assert checks["grammars"]["status"] == "ok", checks["grammars"]
    assert checks["git"]["status"] == "ok"


def test_doctor_never_prints_the_key(tmp_path: Path) -> None:
    secret = "sk-ant-api03-do-not-print-me"
    result = run("doctor", "--workspace", str(tmp_path), env=clean_env(tmp_path, ANTHROPIC_API_KEY=secret))
    assert secret not in result.stdout + result.stderr
    assert "set (not shown)" in result.stdout
    assert result.returncode == 0, result.stdout


def test_doctor_shows_config_warnings(tmp_path: Path) -> None:
    (tmp_path / "agentls.toml").write_text("[model]\nmax_tokens = -1\n")
    env = clean_env(tmp_path, ANTHROPIC_API_KEY="k")
    result = run("doctor", "--json", "--workspace", str(tmp_path), env=env)
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["config"]["status"] == "warning"
    assert "model.max_tokens" in checks["config"]["hint"]


def test_doctor_describes_the_model_and_warns_about_what_it_rejects(tmp_path: Path) -> None:
    env = clean_env(tmp_path, ANTHROPIC_API_KEY="k")
    result = run("doctor", "--json", "--workspace", str(tmp_path), env=env)
    model = {c["name"]: c for c in json.loads(result.stdout)}["model"]
    assert model["status"] == "ok"
    assert "claude-sonnet-5-5 via api.anthropic.com: 1,000,000-token context, 128,000 output tokens" in model["detail"]
    (tmp_path / "agentls.toml").write_text('[model]\nname = "claude-haiku-4-5"\nmax_tokens = 100000\n')
    model = {c["name"]: c for c in json.loads(run("doctor", "--json", "--workspace", str(tmp_path),
                                                  env=env).stdout)}["model"]
    assert model["status"] == "warning"
    assert "model.max_tokens (100,000) is over the model's limit (64,000)" in model["hint"]
