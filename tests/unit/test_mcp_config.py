"""Where MCP servers come from, what a declaration resolves to, who trusts it, and how its tools are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentls.config import load_settings
from agentls.mcp import sources, trust
from agentls.mcp.tools import allowed, repaired_schema, tool_name


def test_layers_later_wins_and_each_keeps_its_origin(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[mcp.servers.git]\ncommand = "mine"\n[mcp.servers.docs]\nurl = "https://docs.example/mcp"\n'
                    '[mcp.servers.docs.headers]\nAuthorization = "Bearer ${DOCS_TOKEN}"\n')
    root = tmp_path / "ws"
    (root / ".vscode").mkdir(parents=True)
    (root / "agentls.toml").write_text('[mcp.servers.git]\ncommand = "theirs-toml"\n')
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "git": {"command": "theirs-json", "args": ["--x"], "env": {"GIT_TOKEN": "${GIT_TOKEN}"}},
        "old": {"type": "sse", "url": "http://127.0.0.1:1/sse", "autoApprove": ["x"]}}}))
    (root / ".vscode/mcp.json").write_text(json.dumps({"servers": {"db": {"type": "stdio", "command": "db"}},
                                                       "inputs": []}))
    settings = load_settings(root, environ={}, user_config=user).settings
    # The workspace's [mcp.servers] never becomes a setting: it is a declaration waiting for trust.
    assert list(settings.mcp.servers) == ["git", "docs"]
    assert settings.mcp.servers["git"].command == "mine"
    assert settings.mcp.servers["docs"].headers == {"Authorization": "Bearer ${DOCS_TOKEN}"}  # names kept as written
    specs, problems = sources.discover(root, settings.mcp.servers)
    by_name = {s.name: s for s in specs}
    assert problems == []
    assert by_name["git"].origin == ".mcp.json"
    assert by_name["git"].command == "theirs-json"
    assert by_name["git"].from_workspace
    assert by_name["docs"].origin == sources.USER
    assert by_name["old"].transport == "sse"
    assert by_name["db"].origin == ".vscode/mcp.json"


def test_variables_expand_from_the_environment_and_an_unset_one_is_named(tmp_path: Path) -> None:
    spec = sources._spec("s", sources.USER, {"command": "${HOME_BIN:-/usr/bin}/srv", "args": ["${workspaceFolder}/x"],
                                              "env": {"TOKEN": "${env:TOKEN}"}, "cwd": "sub"})
    resolved = sources.resolve(spec, tmp_path, {"TOKEN": "t0k"})
    assert resolved.command == "/usr/bin/srv"
    assert resolved.args == (f"{tmp_path}/x",)
    assert resolved.env == {"TOKEN": "t0k"}
    assert resolved.cwd == str(tmp_path / "sub")
    with pytest.raises(sources.Unresolvable, match="TOKEN, which is not set"):
        sources.resolve(spec, tmp_path, {})
    vscode = sources._spec("v", ".vscode/mcp.json", {"command": "x", "env": {"K": "${input:key}"}})
    with pytest.raises(sources.Unresolvable, match="VS Code input"):
        sources.resolve(vscode, tmp_path, {})


def test_bad_declarations_are_named_not_fatal(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "neither": {"args": ["x"]}, "both": {"command": "a", "url": "http://x"}, "odd": {"type": "ws", "url": "x"},
        "list": ["not", "a", "table"], "off": {"command": "x", "disabled": True}}}))
    (tmp_path / "agentls.toml").write_text("not toml [")
    specs, problems = sources.discover(tmp_path, {})
    by_name = {s.name: s for s in specs}
    assert by_name["neither"].problem
    assert "either `command` or `url`" in by_name["neither"].problem
    assert by_name["both"].problem
    assert by_name["odd"].problem == "unknown type 'ws'"
    assert by_name["list"].problem == "its entry is not a table/object"
    assert not by_name["off"].enabled
    assert problems
    assert "agentls.toml is not valid TOML" in problems[0]


def test_trust_is_per_workspace_and_per_exact_definition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTLS_DATA_DIR", str(tmp_path / "data"))
    one, other = tmp_path / "one", tmp_path / "other"
    one.mkdir()
    other.mkdir()
    spec = sources._spec("git", ".mcp.json", {"command": "mcp-server-git", "args": ["--repository", "."]})
    mine = sources._spec("git", sources.USER, {"command": "anything"})
    assert trust.is_trusted(one, mine)  # the user's own settings
    assert not trust.is_trusted(one, spec)
    trust.trust(one, spec)
    assert trust.is_trusted(one, spec)
    assert not trust.is_trusted(other, spec)
    changed = sources._spec("git", ".mcp.json", {"command": "mcp-server-git", "args": ["--repository", "/"]})
    assert not trust.is_trusted(one, changed)
    env_changed = sources._spec("git", ".mcp.json", {"command": "mcp-server-git", "args": ["--repository", "."],
                                                      "env": {"GIT_DIR": "/elsewhere"}})
    assert not trust.is_trusted(one, env_changed)
    # The record is in the user's data dir, never the workspace.
    assert not list(one.iterdir())
    assert trust.forget(one, "git")
    assert not trust.is_trusted(one, spec)
    assert not trust.forget(one, "git")


def test_names_the_api_accepts() -> None:
    assert tool_name("git", "git_status") == "mcp__git__git_status"
    assert tool_name("my.server", "do thing/now") == "mcp__my_server__do_thing_now"
    long = tool_name("a-very-long-server-name-indeed", "an_even_longer_tool_name_that_goes_on_and_on")
    assert len(long) == 64
    assert long != tool_name("a-very-long-server-name-indeed", "an_even_longer_tool_name_that_goes_on_and_onX")
    assert allowed("mcp__git__git_log", "git", ["mcp__git__*"])
    assert allowed("mcp__git__git_log", "git", ["mcp__git"])
    assert not allowed("mcp__git__git_log", "git", ["mcp__gi"])
    assert not allowed("mcp__gitx__git_log", "gitx", ["mcp__git"])


def test_schemas_are_repaired_or_left_out() -> None:
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"path": {"type": "string"}}, "required": ["path"]}
    assert repaired_schema(draft7) == {"type": "object", "properties": {"path": {"type": "string"}},
                                       "required": ["path"]}
    assert repaired_schema({"properties": {}}) == {"type": "object", "properties": {}}
    assert repaired_schema({"type": "object", "properties": {"x": {"type": 5}}}) is None
    assert repaired_schema({"type": "array"}) is None
