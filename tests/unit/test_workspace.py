"""Workspace: path safety, deny-list, text reads/writes, ignore rules and walks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agentls.agent.workspace import Workspace, path_key
from agentls.config import DEFAULT_DENY
from agentls.errors import DeniedPath, FileRefused, OutsideWorkspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text("print('a')\n")
    return Workspace(root, DEFAULT_DENY, max_file_bytes=2_000)


def test_resolve_relative_and_absolute_inside(ws: Workspace) -> None:
    assert ws.resolve("src/a.py") == ws.root / "src" / "a.py"
    assert ws.resolve(str(ws.root / "src" / "a.py")) == ws.root / "src" / "a.py"
    assert ws.resolve("src/../src/a.py") == ws.root / "src" / "a.py"
    assert ws.resolve("new/file.txt") == ws.root / "new" / "file.txt"  # not existing yet: fine
    assert ws.relative(ws.root / "src" / "a.py") == "src/a.py"
    assert ws.relative(ws.root) == "."


@pytest.mark.parametrize("path", ["../x", "src/../../x", "/etc/passwd", "/"])
def test_escapes_are_refused(ws: Workspace, path: str) -> None:
    with pytest.raises(OutsideWorkspace, match="inside the workspace"):
        ws.resolve(path)


def test_symlink_pointing_outside_is_refused(ws: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    (ws.root / "link.txt").symlink_to(outside / "secret.txt")
    (ws.root / "linkdir").symlink_to(outside, target_is_directory=True)
    for path in ("link.txt", "linkdir/secret.txt", "linkdir/new.txt"):
        with pytest.raises(OutsideWorkspace):
            ws.resolve(path)
    with pytest.raises(OutsideWorkspace):
        ws.read_text("linkdir/secret.txt")
    with pytest.raises(OutsideWorkspace):
        ws.write_text("linkdir/new.txt", "x")
    assert not (outside / "new.txt").exists()


def test_symlink_inside_resolves_to_its_target(ws: Workspace) -> None:
    (ws.root / "alias.py").symlink_to(ws.root / "src" / "a.py")
    assert ws.resolve("alias.py") == ws.root / "src" / "a.py"
    (ws.root / "envlink").symlink_to(ws.root / ".env")
    with pytest.raises(DeniedPath):
        ws.resolve("envlink")  # a symlink to a denied file is denied too


def test_root_given_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "f.txt").write_text("x")
    (tmp_path / "via").symlink_to(real, target_is_directory=True)
    ws = Workspace(tmp_path / "via")
    assert ws.resolve(str(tmp_path / "via" / "f.txt")) == real / "f.txt"


@pytest.mark.parametrize("path", [".env", ".env.local", "id_rsa", "id_rsa.pub", ".git/config", "certs/a.pem"])
def test_deny_list_refuses_read_and_write(ws: Workspace, path: str) -> None:
    target = ws.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("secret")
    with pytest.raises(DeniedPath, match="deny-list"):
        ws.read_text(path)
    with pytest.raises(DeniedPath):
        ws.write_text(path, "changed")
    assert target.read_text() == "secret"


def test_deny_list_covers_git_dir_itself_and_nested(ws: Workspace) -> None:
    (ws.root / ".git").mkdir()
    (ws.root / "sub" / ".git").mkdir(parents=True)
    with pytest.raises(DeniedPath):
        ws.resolve(".git")
    with pytest.raises(DeniedPath):
        ws.resolve("sub/.git/HEAD")
    assert not ws.is_denied("src/a.py")
    assert not ws.is_denied("environment.py")


def test_read_keeps_line_endings(ws: Workspace) -> None:
    (ws.root / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    (ws.root / "cr.txt").write_bytes(b"a\rb")
    assert ws.read_text("crlf.txt") == "a\r\nb\r\n"
    assert ws.read_text("cr.txt") == "a\rb"


def test_binary_and_oversized_files_are_refused(ws: Workspace) -> None:
    (ws.root / "bin.dat").write_bytes(b"abc\x00def")
    (ws.root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (ws.root / "big.txt").write_text("x" * 2_001)
    with pytest.raises(FileRefused, match="binary"):
        ws.read_text("bin.dat")
    with pytest.raises(FileRefused, match="UTF-8"):
        ws.read_text("latin1.txt")
    with pytest.raises(FileRefused, match=r"2,001 bytes.*2,000-byte limit.*view_range"):
        ws.read_text("big.txt")
    assert ws.read_text("big.txt", max_bytes=10_000) == "x" * 2_001


def test_write_is_atomic_keeps_mode_and_creates_dirs(ws: Workspace) -> None:
    script = ws.root / "run.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o750)
    inode = script.stat().st_ino
    ws.write_text("run.sh", "#!/bin/sh\necho hi\r\n")
    assert script.read_bytes() == b"#!/bin/sh\necho hi\r\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert script.stat().st_ino != inode  # replaced, not rewritten in place
    ws.write_text("deep/new/file.txt", "new")
    assert (ws.root / "deep" / "new" / "file.txt").read_text() == "new"
    assert [p.name for p in (ws.root / "deep" / "new").iterdir()] == ["file.txt"]  # no temp left


def test_write_through_inside_symlink_keeps_the_link(ws: Workspace) -> None:
    (ws.root / "alias.py").symlink_to(ws.root / "src" / "a.py")
    ws.write_text("alias.py", "changed\n")
    assert (ws.root / "alias.py").is_symlink()
    assert (ws.root / "src" / "a.py").read_text() == "changed\n"


def test_gitignore_root_nested_negation_and_exclude(ws: Workspace) -> None:
    (ws.root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (ws.root / "src" / ".gitignore").write_text("generated_*.py\n")
    (ws.root / ".git" / "info").mkdir(parents=True)
    (ws.root / ".git" / "info" / "exclude").write_text("scratch.txt\n")
    (ws.root / "build").mkdir()
    assert ws.is_ignored("build", is_dir=True)
    assert ws.is_ignored("build/out.js")
    assert ws.is_ignored("x.log")
    assert not ws.is_ignored("keep.log")
    assert ws.is_ignored("src/generated_api.py")
    assert not ws.is_ignored("generated_api.py")  # the nested rule applies below src/ only
    assert ws.is_ignored("scratch.txt")
    assert not ws.is_ignored("src/a.py")


def test_iter_files_order_ignores_and_skips(ws: Workspace, tmp_path: Path) -> None:
    root = ws.root
    (root / ".gitignore").write_text("build/\n*.log\n")
    files = ["a b.txt", "a/z.txt", "a.txt", "build/out.js", "x.log", ".github/ci.yml", "sub/.git/HEAD",
             "sub/lib.py", ".env", "certs/k.pem", ".git/config"]  # fmt: skip
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    outside = tmp_path / "out"
    outside.mkdir()
    (outside / "o.txt").write_text("o")
    (root / "outlink").symlink_to(outside, target_is_directory=True)
    (root / "filelink.txt").symlink_to(root / "a.txt")
    listed = list(ws.iter_files())
    assert listed == [".github/ci.yml", ".gitignore", "a/z.txt", "a b.txt", "a.txt", "src/a.py", "sub/lib.py"]
    assert listed == sorted(listed, key=path_key)
    assert list(ws.iter_files("*.py")) == ["src/a.py", "sub/lib.py"]
    assert list(ws.iter_files("*.py", "sub")) == ["sub/lib.py"]
    assert list(ws.iter_files("src/*.py")) == ["src/a.py"]
    assert list(ws.iter_files(under="build")) == ["build/out.js"]  # asked for by name
