"""The run_command sandbox's trust boundary: deny-listed files hidden wherever they are (ignored
directories, huge trees, thousands of them), and no root inside when agentls runs as root."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agentls.agent.tools import sandbox_masks
from agentls.agent.tools.sandbox_masks import workspace_masks
from agentls.agent.workspace import Workspace
from tests.unit.test_tool_run_command import PY, _sandbox_or_skip, make_ctx, run

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="dropping root is tested only when the tests run as root")


def _probe_reads(root: Path, *paths: str) -> None:
    lines = [f"for path in {paths!r}:", "    try:", "        print(path, '->', open(path).read())",
             "    except OSError as exc:", "        print(path, '->', type(exc).__name__)"]  # fmt: skip
    (root / "probe.py").write_text("\n".join(lines) + "\n")


async def test_denied_file_inside_an_ignored_directory_is_hidden(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    (tmp_path / ".gitignore").write_text("node_modules/\nbuild/\n")
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / ".env").write_text("LEAKED-1\n")
    (tmp_path / "build" / "keys").mkdir(parents=True)
    (tmp_path / "build" / "keys" / "id_ed25519").write_text("LEAKED-2\n")
    (tmp_path / "build" / ".aws").mkdir()
    (tmp_path / "build" / "x.secret").write_text("LEAKED-3\n")
    _probe_reads(tmp_path, "node_modules/pkg/.env", "build/keys/id_ed25519", "build/x.secret")
    result = await run(make_ctx(tmp_path, enabled=True, allow=["*"]), f"{PY} probe.py")
    assert not result.is_error, result.content
    assert "LEAKED" not in result.content
    assert result.content.count("PermissionError") == 3, result.content


async def test_denied_file_after_20000_entries_is_hidden(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    bulk = tmp_path / "a-bulk"  # walked first: the old walk gave up after 20,000 entries
    bulk.mkdir()
    for number in range(20_500):
        (bulk / f"f{number}.txt").touch()
    (tmp_path / "z-late").mkdir()
    (tmp_path / "z-late" / ".env.production").write_text("LEAKED\n")
    _probe_reads(tmp_path, "z-late/.env.production")
    result = await run(make_ctx(tmp_path, enabled=True, allow=["*"]), f"{PY} probe.py")
    assert not result.is_error, result.content
    assert "LEAKED" not in result.content
    assert "PermissionError" in result.content


async def test_thousands_of_denied_files_do_not_overflow_the_command_line(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    secrets = tmp_path / ("deeply-nested-directory-name-" * 4) / "secrets"
    secrets.mkdir(parents=True)
    for number in range(12_000):  # ~2.5 MB of mount arguments: over ARG_MAX on the command line
        (secrets / f"token-{number:06d}-{'x' * 40}.secret").write_text("LEAKED\n")
    rel = secrets.relative_to(tmp_path)
    _probe_reads(tmp_path, f"{rel}/token-000000-{'x' * 40}.secret", f"{rel}/token-011999-{'x' * 40}.secret")
    result = await run(make_ctx(tmp_path, enabled=True, allow=["*"]), f"{PY} probe.py")
    assert not result.is_error, result.content
    assert "LEAKED" not in result.content
    # a folder of nothing but denied files is hidden whole (one mount), read-only
    assert result.content.count("FileNotFoundError") == 2, result.content
    assert sorted(secrets.iterdir())[0].read_text() == "LEAKED\n"  # hidden, not touched


async def test_too_many_scattered_denied_files_refuse_the_command(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    for number in range(3_100):  # beside other files: no folder can be hidden whole
        package = tmp_path / "node_modules" / f"pkg{number}"
        package.mkdir(parents=True)
        (package / ".npmrc").write_text("//registry/:_authToken=LEAKED\n")
        (package / "index.js").touch()
    (tmp_path / "ran.py").write_text("open('ran.txt', 'w').write('ran')\n")
    result = await run(make_ctx(tmp_path, enabled=True, allow=["*"]), f"{PY} ran.py")
    assert result.is_error
    assert "cannot run safely" in result.content
    assert "3,100 deny-listed" in result.content
    assert not (tmp_path / "ran.txt").exists()


def test_ripgrep_and_the_python_walk_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("rg") is None or shutil.which("find") is None:
        pytest.skip("ripgrep or find is not installed")
    (tmp_path / ".gitignore").write_text("vendor/\n")
    for rel in ("vendor/lib/.env", "vendor/lib/ok.py", ".env.local", "deep/a/b/credentials.json", "x.tfstate",
                ".ssh/config", "sub/.envs/f", "sub/.npmrc", "node_modules/p/.git/HEAD", "src/main.py",
                ".git/HEAD", "ok/.gitconfig", "k/server.pem"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    (tmp_path / ".git" / "hooks").mkdir()
    (tmp_path / "worktree").mkdir()
    (tmp_path / "worktree" / ".git").write_text("gitdir: /elsewhere\n")  # a gitfile
    (tmp_path / "empty-git" / ".git" / "hooks").mkdir(parents=True)  # no file for rg to list
    (tmp_path / "link.env").symlink_to(tmp_path / "src" / "main.py")  # not followed, not masked
    workspace = Workspace(tmp_path)
    listed = workspace_masks(workspace)
    monkeypatch.setattr(sandbox_masks.shutil, "which", lambda name: None)
    walked = workspace_masks(workspace)
    assert listed == walked

    def rels(paths: list[Path]) -> list[str]:
        return [workspace.relative(path) for path in paths]

    assert rels(listed.git_dirs) == [".git", "empty-git/.git", "node_modules/p/.git", "worktree/.git"]
    assert rels(listed.files) == [".env.local", "deep/a/b/credentials.json", "k/server.pem", "ok/.gitconfig",
                                  "sub/.npmrc", "vendor/lib/.env", "x.tfstate"]  # fmt: skip
    assert rels(listed.dirs) == [".ssh", "sub/.envs"]


def test_a_deny_pattern_ripgrep_rejects_is_still_masked(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "keys{").write_text("x\n")  # an unclosed brace: an error for rg, a name for git
    workspace = Workspace(tmp_path, deny=["keys{"])
    assert [workspace.relative(path) for path in workspace_masks(workspace).files] == ["vendor/keys{"]


@ROOT_ONLY
async def test_root_owned_private_file_in_a_bound_directory_is_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _sandbox_or_skip()
    root = tmp_path / "ws"  # owned by root, as in CI
    root.mkdir()
    tool = tmp_path / "tool"  # a toolchain directory bound into the sandbox (a virtualenv on PATH)
    (tool / "bin").mkdir(parents=True)
    (tool / "pyvenv.cfg").write_text("home = /usr/bin\n")
    private = tool / "root-only.txt"
    private.write_text("LEAKED\n")
    private.chmod(0o600)
    (root / "mine.txt").write_text("workspace file\n")
    (root / "mine.txt").chmod(0o600)
    monkeypatch.setenv("PATH", f"{tool / 'bin'}:{os.environ['PATH']}")
    (root / "probe.py").write_text(
        "import os, re\n"
        f"print('bound:', os.path.isdir({str(tool)!r}))\n"
        "try:\n"
        f"    print(open({str(private)!r}).read())\n"
        "except OSError as exc:\n"
        "    print('private:', type(exc).__name__)\n"
        "print('uid:', os.getuid(), os.geteuid())\n"
        "print('capeff:', re.search(r'CapEff:\\s*(\\w+)', open('/proc/self/status').read()).group(1))\n"
        "print('own:', open('mine.txt').read().strip())\n"
        "open('mine.txt', 'a').write('appended\\n')\n"
        "os.mkdir('made')\n"
        "open('made/new.txt', 'w').write('new\\n')\n"
        "print('written')\n"
    )
    result = await run(make_ctx(root, enabled=True, allow=["*"]), f"{PY} probe.py")
    assert not result.is_error, result.content
    assert "bound: True" in result.content
    assert "LEAKED" not in result.content
    assert "private: PermissionError" in result.content
    assert "uid: 0" not in result.content
    assert "capeff: 0000000000000000" in result.content
    assert "own: workspace file" in result.content  # the root-owned workspace stays readable and writable
    assert "written" in result.content
    assert (root / "mine.txt").read_text() == "workspace file\nappended\n"
    assert (root / "made" / "new.txt").stat().st_uid == 0  # owned by root on disk, as before


@ROOT_ONLY
async def test_root_runs_commands_as_the_workspace_owner(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    root = tmp_path / "ws"
    root.mkdir()
    os.chown(root, 4242, 4343)
    (root / "probe.py").write_text("import os\nprint('ids:', os.getuid(), os.getgid(), os.getgroups())\n"
                                   "open('out.txt', 'w').write('ok')\n")  # fmt: skip
    result = await run(make_ctx(root, enabled=True, allow=["*"]), f"{PY} probe.py")
    assert not result.is_error, result.content
    assert "ids: 4242 4343 []" in result.content
    assert (root / "out.txt").stat().st_uid == 4242


async def test_agentls_and_mcp_config_files_are_read_only_in_the_sandbox(tmp_path: Path) -> None:
    await _sandbox_or_skip()
    (tmp_path / ".vscode").mkdir()
    configs = {"agentls.toml": '[model]\nname = "x"\n', ".mcp.json": "{}\n", ".vscode/mcp.json": "{}\n"}
    for name, text in configs.items():
        (tmp_path / name).write_text(text)
    lines = [f"for path in {tuple(configs)!r}:", "    try:", "        open(path, 'a').write('planted')",
             "        print(path, 'written')", "    except OSError as exc:", "        print(path, type(exc).__name__)"]
    (tmp_path / "plant.py").write_text("\n".join(lines) + "\n")
    result = await run(make_ctx(tmp_path, enabled=True, allow=["*"]), f"{PY} plant.py")
    assert not result.is_error, result.content
    assert "written" not in result.content
    assert result.content.count("OSError") + result.content.count("PermissionError") == 3, result.content
    assert {name: (tmp_path / name).read_text() for name in configs} == configs
