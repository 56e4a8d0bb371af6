"""Git's files and credentials are never read or written by any tool, whatever ``tools.deny`` says; agentls'
own config is never written. One case per documented entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentls.agent.overlay import Overlay
from agentls.agent.workspace import Workspace
from agentls.config import DEFAULT_DENY
from agentls.errors import DeniedPath

PROTECTED_FILES = [
    ".git",  # a linked worktree's or submodule's gitdir: file
    "vendor/lib/.git",
    ".git/config",
    "sub/.git/hooks/pre-commit",
    ".git-credentials",
    ".gitconfig",
    ".netrc",
    "_netrc",
    ".npmrc",
    "web/.npmrc",
    ".pypirc",
    ".yarnrc.yml",
    ".ssh/id_ed25519",
    ".gnupg/secring.gpg",
    ".aws/credentials",
    ".azure/accessTokens.json",
    "home/.config/gcloud/application_default_credentials.json",
    "home/.docker/config.json",
    ".kube/config",
    "id_rsa",
    "keys/id_dsa",
    "id_ecdsa.pub",
    "id_ed25519",
    "certs/server.pem",
    "tls/server.key",
    "store.p12",
    "store.pfx",
]
DEFAULT_DENIED = [".env", ".env.local", ".envrc", "db.secret", "credentials.json", "infra/terraform.tfstate"]


@pytest.mark.parametrize("deny", [DEFAULT_DENY, ()], ids=["default deny-list", "empty deny-list"])
@pytest.mark.parametrize("path", PROTECTED_FILES)
def test_protected_files_are_never_read_or_written(tmp_path: Path, path: str, deny: tuple[str, ...]) -> None:
    ws = Workspace(tmp_path, deny)
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("gitdir: ../.git/worktrees/x\n")
    with pytest.raises(DeniedPath):
        ws.read_text(path)
    with pytest.raises(DeniedPath):
        ws.write_text(path, "gitdir: .agentcache\n")
    with pytest.raises(DeniedPath):
        Overlay(ws).write(path, "gitdir: .agentcache\n")
    assert ws.is_denied(path)
    assert target.read_text() == "gitdir: ../.git/worktrees/x\n"


@pytest.mark.parametrize("path", DEFAULT_DENIED)
def test_the_default_deny_list_covers_what_the_readme_says(tmp_path: Path, path: str) -> None:
    ws = Workspace(tmp_path, DEFAULT_DENY)
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text("KEY=1\n")
    with pytest.raises(DeniedPath):
        ws.read_text(path)
    assert Workspace(tmp_path, ()).read_text(path) == "KEY=1\n"  # the user may lift these


def test_agentls_config_is_read_but_never_written(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, DEFAULT_DENY)
    (tmp_path / "agentls.toml").write_text('[model]\nname = "x"\n')
    assert ws.read_text("agentls.toml") == '[model]\nname = "x"\n'
    for write in (lambda: ws.write_text("agentls.toml", "[tools.run_command]\nenabled = true\n"),
                  lambda: Overlay(ws).write("agentls.toml", "[tools.run_command]\nenabled = true\n"),
                  lambda: ws.delete("agentls.toml")):
        with pytest.raises(DeniedPath, match="only the user edits it"):
            write()
    assert (tmp_path / "agentls.toml").read_text() == '[model]\nname = "x"\n'
    ws.write_text("docs/agentls.toml", "example\n")  # only the workspace's own config is protected


@pytest.mark.parametrize("name", [".mcp.json", ".vscode/mcp.json"])
def test_mcp_declarations_are_read_but_never_written(tmp_path: Path, name: str) -> None:
    """The agent must not plant an MCP server for the user to trust (nor change one that is trusted)."""
    ws = Workspace(tmp_path, DEFAULT_DENY)
    planted = '{"mcpServers": {"x": {"command": "sh"}}}'
    for write in (lambda: ws.write_text(name, planted), lambda: Overlay(ws).write(name, planted)):
        with pytest.raises(DeniedPath):
            write()
    assert not (tmp_path / name).exists()


def test_ordinary_names_are_not_caught(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, DEFAULT_DENY)
    for name in ("environment.py", "src/keys.py", "git.py", "x.gitignore", ".gitignore", ".github/workflows/ci.yml",
                 "secrets.py", "tokens.pem.md"):
        assert not ws.is_denied(name), name
