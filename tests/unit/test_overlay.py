"""Overlay: edits in memory, exact changes, commit only when the disk did not change meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentls.agent.overlay import FileChange, Overlay, OverlayConflict
from agentls.agent.workspace import Workspace
from agentls.errors import DeniedPath, OutsideWorkspace


@pytest.fixture
def overlay(tmp_path: Path) -> Overlay:
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "b.txt").write_bytes(b"crlf\r\n")
    return Overlay(Workspace(tmp_path))


def test_reads_see_writes_and_disk_is_untouched(overlay: Overlay, tmp_path: Path) -> None:
    assert overlay.read("a.txt") == "one\n"
    overlay.write("a.txt", "two\n")
    overlay.write("new/c.txt", "new\n")
    assert overlay.read("a.txt") == "two\n"
    assert overlay.read(str(tmp_path / "a.txt")) == "two\n"  # same file, absolute spelling
    assert overlay.exists("new/c.txt")
    assert (tmp_path / "a.txt").read_text() == "one\n"
    assert not (tmp_path / "new").exists()
    assert overlay.changes() == [
        FileChange("a.txt", "one\n", "two\n"),
        FileChange("new/c.txt", None, "new\n"),
    ]


def test_missing_file_and_delete(overlay: Overlay, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        overlay.read("nope.txt")
    assert not overlay.exists("nope.txt")
    overlay.delete("b.txt")
    assert not overlay.exists("b.txt")
    with pytest.raises(FileNotFoundError):
        overlay.read("b.txt")
    assert overlay.changes() == [FileChange("b.txt", "crlf\r\n", None)]
    assert overlay.commit() == ["b.txt"]
    assert not (tmp_path / "b.txt").exists()


def test_unchanged_round_trip_is_no_change(overlay: Overlay) -> None:
    overlay.write("a.txt", "x")
    overlay.write("a.txt", "one\n")
    assert overlay.changes() == []
    assert not overlay.has_changes()


def test_path_safety_applies(overlay: Overlay) -> None:
    with pytest.raises(OutsideWorkspace):
        overlay.write("../escape.txt", "x")
    with pytest.raises(DeniedPath):
        overlay.read(".env")
    with pytest.raises(DeniedPath):
        overlay.write(".env", "KEY=1")


def test_commit_writes_everything(overlay: Overlay, tmp_path: Path) -> None:
    overlay.write("a.txt", "two\n")
    overlay.write("b.txt", "crlf\r\nmore\r\n")
    overlay.write("new/c.txt", "new\n")
    assert overlay.commit() == ["a.txt", "b.txt", "new/c.txt"]
    assert (tmp_path / "a.txt").read_text() == "two\n"
    assert (tmp_path / "b.txt").read_bytes() == b"crlf\r\nmore\r\n"
    assert (tmp_path / "new" / "c.txt").read_text() == "new\n"
    assert overlay.changes() == []


def test_commit_refuses_when_disk_changed_and_writes_nothing(overlay: Overlay, tmp_path: Path) -> None:
    overlay.write("a.txt", "agent\n")
    overlay.write("new/c.txt", "agent\n")
    overlay.write("b.txt", "agent\r\n")
    (tmp_path / "a.txt").write_text("user typed\n")  # the user edits meanwhile
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "c.txt").write_text("user created\n")
    with pytest.raises(OverlayConflict, match=r"a\.txt, new/c\.txt"):
        overlay.commit()
    assert (tmp_path / "a.txt").read_text() == "user typed\n"
    assert (tmp_path / "b.txt").read_bytes() == b"crlf\r\n"  # nothing written, not even unconflicted files
    assert (tmp_path / "new" / "c.txt").read_text() == "user created\n"
    assert len(overlay.changes()) == 3  # still there for the caller to decide


def test_discard(overlay: Overlay, tmp_path: Path) -> None:
    overlay.write("a.txt", "x")
    overlay.discard()
    assert overlay.read("a.txt") == "one\n"
    assert overlay.commit() == []
