"""run_command: off by default, allow-list, overlay guard, sandbox, timeout, middle truncation."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentls.agent.overlay import Overlay
from agentls.agent.tools.base import ToolContext, ToolResult
from agentls.agent.tools.run_command import RunCommandTool, middle_truncate, sandbox_problem
from agentls.agent.workspace import Workspace
from agentls.config import CommandSettings, ToolsSettings

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def make_ctx(root: Path, **command: Any) -> ToolContext:
    settings = ToolsSettings(run_command=CommandSettings(**command))
    workspace = Workspace(root, settings.deny, settings.max_file_bytes)
    return ToolContext(workspace, Overlay(workspace), settings)


async def run(ctx: ToolContext, command: str, **extra: Any) -> ToolResult:
    return await RunCommandTool().run({"command": command, **extra}, ctx)


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


async def test_disabled_by_default(tmp_path: Path) -> None:
    result = await run(make_ctx(tmp_path), "pytest")
    assert result.is_error
    assert "disabled" in result.content
    assert "only the user can enable it" in result.content
    assert "agentls.toml" not in result.content
    assert "enabled = true" not in result.content


async def test_command_must_match_an_allowed_pattern(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, enabled=True, allow=["pytest*", "npm test"])
    result = await run(ctx, "rm -rf /")
    assert result.is_error
    assert "'pytest*', 'npm test'" in result.content
    assert "agentls.toml" not in result.content  # the model is not told how to widen its own permissions


async def test_refused_while_overlay_has_edits_unless_caller_commits(tmp_path: Path, no_bwrap: None) -> None:
    ctx = make_ctx(tmp_path, enabled=True, allow=[f"{PY} *"], allow_unsandboxed=True)
    ctx.overlay.write("a.py", "print('from overlay')\n")
    refused = await run(ctx, f"{PY} a.py")
    assert refused.is_error
    assert "a.py" in refused.content
    assert "not on disk" in refused.content
    assert not (tmp_path / "a.py").exists()
    ctx.commit_before_commands = True
    ran = await run(ctx, f"{PY} a.py")
    assert not ran.is_error
    assert "written to disk first" in ran.content
    assert "from overlay" in ran.content
    assert ran.content.endswith("[exit code 0]")


async def test_no_bwrap_refuses_unless_unsandboxed_allowed(tmp_path: Path, no_bwrap: None) -> None:
    strict = make_ctx(tmp_path, enabled=True, allow=["*"])
    refused = await run(strict, f"{PY} -c pass")
    assert refused.is_error
    assert "bubblewrap" in refused.content
    assert "allow_unsandboxed" not in refused.content  # only the user may, in their own config
    loose = make_ctx(tmp_path, enabled=True, allow=["*"], allow_unsandboxed=True)
    result = await run(loose, f"{PY} -c 'import sys; print(\"out\"); sys.exit(3)'")
    assert not result.is_error
    assert "ran without a sandbox" in result.content
    assert "out" in result.content
    assert result.content.endswith("[exit code 3]")


async def test_no_shell_no_chaining(tmp_path: Path, no_bwrap: None) -> None:
    ctx = make_ctx(tmp_path, enabled=True, allow=[f"{PY} *"], allow_unsandboxed=True)
    result = await run(ctx, f"{PY} -c 'import sys; print(sys.argv[1:])' ; touch pwned")
    assert "[';', 'touch', 'pwned']" in result.content
    assert not (tmp_path / "pwned").exists()
    missing = make_ctx(tmp_path, enabled=True, allow=["*"], allow_unsandboxed=True)
    not_found = await run(missing, "no-such-program-xyz")
    assert not_found.is_error
    assert "not found" in not_found.content


async def test_timeout_kills_the_process_group(tmp_path: Path, no_bwrap: None) -> None:
    ctx = make_ctx(tmp_path, enabled=True, allow=["*"], allow_unsandboxed=True)
    code = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); "
        "open('child.pid', 'w').write(str(child.pid)); print('started', flush=True); time.sleep(30)"
    )
    started = time.monotonic()
    result = await run(ctx, f'{PY} -c "{code}"', timeout_s=1)
    assert time.monotonic() - started < 8
    assert result.is_error
    assert "timed out after 1s" in result.content
    assert "started" in result.content
    child = int((tmp_path / "child.pid").read_text())
    await asyncio.sleep(0.2)
    assert not _running(child)  # the grandchild died with its group


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers if PID 1 does not reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_output_truncated_in_the_middle(tmp_path: Path, no_bwrap: None) -> None:
    ctx = make_ctx(tmp_path, enabled=True, allow=["*"], allow_unsandboxed=True, max_output_chars=1_000)
    code = "print('START' + 'x' * 200_000 + 'END')"
    result = await run(ctx, f'{PY} -c "{code}"')
    assert not result.is_error
    assert "START" in result.content
    assert "END" in result.content
    assert "characters of output cut from the middle" in result.content
    assert len(result.content) < 1_400


def test_middle_truncate() -> None:
    assert middle_truncate("short", 100) == "short"
    cut = middle_truncate("a" * 500 + "b" * 500, 300)
    assert cut.startswith("a" * 90)
    assert cut.endswith("b" * 90)
    assert "820 characters of output cut from the middle" in cut


async def test_cancel_stops_the_command(tmp_path: Path, no_bwrap: None) -> None:
    ctx = make_ctx(tmp_path, enabled=True, allow=["*"], allow_unsandboxed=True)
    task = asyncio.create_task(run(ctx, f"{PY} -c 'import time; time.sleep(30)'"))
    await asyncio.sleep(0.3)
    ctx.cancel.set()
    result = await asyncio.wait_for(task, 8)
    assert result.is_error
    assert "cancelled" in result.content


# -- the real sandbox ------------------------------------------------------------------------


async def _sandbox_or_skip() -> None:
    problem = await sandbox_problem()
    if problem is not None:
        pytest.skip(problem)


async def test_sandbox_denies_network_and_protects_git_and_secrets(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    root = tmp_path / "ws"
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".env").parent.mkdir(parents=True, exist_ok=True)
    (root / ".env").write_text("KEY=secret\n")
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    script = root / "probe.py"
    script.write_text(
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), 2); print('net: connected')\n"
        "except OSError as exc:\n"
        "    print('net: refused', type(exc).__name__)\n"
        "open('written.txt', 'w').write('ok')\n"
        "try:\n"
        "    open('.git/hooks/pre-commit', 'w').write('evil')\n"
        "    print('git: writable')\n"
        "except OSError:\n"
        "    print('git: read-only')\n"
        "print(open('.env').read())\n"
    )
    ctx = make_ctx(root, enabled=True, allow=[f"{PY} probe.py"])
    try:
        result = await run(ctx, f"{PY} probe.py")
    finally:
        server.close()
    assert not result.is_error, result.content
    assert "net: refused" in result.content
    assert "git: read-only" in result.content
    assert "Permission denied: '.env'" in result.content
    assert "secret" not in result.content
    assert (root / "written.txt").read_text() == "ok"  # the workspace is writable
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    assert "without a sandbox" not in result.content


async def test_sandbox_timeout(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    ctx = make_ctx(tmp_path, enabled=True, allow=["*"])
    started = time.monotonic()
    result = await run(ctx, f"{PY} -c 'import time; time.sleep(30)'", timeout_s=0.5)
    assert result.is_error
    assert "timed out" in result.content
    assert time.monotonic() - started < 8


async def test_sandbox_hides_agentls_data_and_etc_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await _sandbox_or_skip()
    root = tmp_path / "ws"
    root.mkdir()
    tool = tmp_path / "tool"  # a toolchain directory (a virtualenv) that also holds agentls' data
    (tool / "bin").mkdir(parents=True)
    (tool / "pyvenv.cfg").write_text("home = /usr/bin\n")
    data = tool / "share" / "agentls"
    data.mkdir(parents=True)
    (data / "audit.jsonl").write_text('{"secret": "from another workspace"}\n')
    monkeypatch.setenv("AGENTLS_DATA_DIR", str(data))
    monkeypatch.setenv("PATH", f"{tool / 'bin'}:{os.environ['PATH']}")
    (root / "probe.py").write_text(
        "import os\n"
        f"print('tool bound:', os.path.isdir({str(tool / 'bin')!r}))\n"
        f"print('data:', os.listdir({str(data)!r}) if os.path.isdir({str(data)!r}) else 'absent')\n"
        "try:\n"
        "    shadow = open('/etc/shadow').read()\n"
        "except OSError:\n"
        "    shadow = ''\n"
        "print('shadow:', 'root:' in shadow)\n"
    )
    result = await run(make_ctx(root, enabled=True, allow=["*"]), f"{PY} probe.py")
    assert not result.is_error, result.content
    assert "tool bound: True" in result.content
    assert "data: []" in result.content
    assert "shadow: False" in result.content


async def test_commands_run_under_resource_limits(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "hog.py").write_text("x = bytearray(512 * 1024 * 1024)\nprint('allocated')\n")
    (root / "big.py").write_text("open('big.bin', 'wb').write(b'x' * 3 * 1024 * 1024)\nprint('written')\n")
    ctx = make_ctx(root, enabled=True, allow=["*"], max_memory_mb=128, max_file_mb=1)
    hog = await run(ctx, f"{PY} hog.py")
    assert "MemoryError" in hog.content
    assert "allocated" not in hog.content
    big = await run(ctx, f"{PY} big.py")
    assert "written" not in big.content
    assert not (root / "big.bin").exists() or (root / "big.bin").stat().st_size <= 1024 * 1024
