"""What callers see (``Checkpoint``, ``RestorePlan``...) and what a checkpoint commit's message holds."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

Trigger = Literal["edit", "accept", "command", "manual", "restore"]
TRIGGERS: tuple[str, ...] = ("edit", "accept", "command", "manual", "restore")
#: At most this many paths are listed in a checkpoint's ``files`` (the summary gives the count).
MAX_LISTED_FILES = 1000
_META_PREFIX = "agentls-checkpoint: "


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint: a full snapshot of the workspace's files (as known) before a change."""

    id: str
    time: float
    trigger: Trigger
    session_id: str | None
    step: int | None
    summary: str
    files: list[str]


@dataclass(frozen=True)
class FileRestore:
    """One file a restore changes. ``current`` is the git blob id (hex) of what is on disk now, None
    when the file is absent; ``target`` the checkpoint's bytes (a symlink's target for ``mode``
    0o120000), None when the file is to be deleted; ``mode`` the checkpoint's git mode
    (0o100644, 0o100755, 0o120000), None when deleting."""

    path: str
    current: str | None
    target: bytes | None
    mode: int | None


@dataclass(frozen=True)
class BufferRestore:
    """How to bring an open document back to a checkpoint without losing what the user typed.

    ``target``: the checkpoint's text of the path (None: absent then). ``steps``: each accept since
    (oldest first) as (the text before it, the text right after it); undoing them newest first on the
    buffer's text, then the difference between ``target`` and the first step's text before, leaves
    what the user typed meanwhile. No steps: the buffer becomes ``target``."""

    path: str
    target: str | None
    steps: list[tuple[str | None, str]] = field(default_factory=list)
    #: The checkpoint took ``target`` from the editor's buffer (not the disk).
    from_buffer: bool = False


@dataclass(frozen=True)
class RestorePlan:
    checkpoint: Checkpoint
    files: list[FileRestore]
    #: Paths a restore will not touch: over the size limit now, ignored now, in a nested repository.
    skipped: list[str] = field(default_factory=list)
    #: For each editor buffer given to ``plan_restore``: how to restore it keeping the user's typing.
    buffers: list[BufferRestore] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    restored: list[str]
    deleted: list[str]
    created: list[str]
    safety_checkpoint: str
    #: Paths left alone (see ``RestorePlan.skipped``) and paths in ``skip`` (the editor applies those).
    skipped: list[str] = field(default_factory=list)


@dataclass
class Meta:
    """The metadata stored in a checkpoint commit's message (a JSON line)."""

    id: str
    time: float
    trigger: Trigger
    session_id: str | None = None
    step: int | None = None
    summary: str = ""
    files: list[str] = field(default_factory=list)
    #: Paths read when the checkpoint was taken (None: the whole tree was scanned).
    covered: list[str] | None = None
    #: Files over the size limit: absent from the tree, never deleted or written by a restore.
    skipped: list[str] = field(default_factory=list)
    #: Paths taken from an editor's buffers (unsaved text) instead of the disk.
    buffers: list[str] = field(default_factory=list)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.id, self.time, self.trigger, self.session_id, self.step, self.summary,
                          list(self.files))

    def message(self) -> str:
        payload = {
            "v": 1, "id": self.id, "time": self.time, "trigger": self.trigger, "session_id": self.session_id,
            "step": self.step, "summary": self.summary, "files": self.files, "covered": self.covered,
            "skipped": self.skipped,
        }
        if self.buffers:
            payload["buffers"] = self.buffers
        return f"{self.trigger}: {self.summary}\n\n{_META_PREFIX}{json.dumps(payload, ensure_ascii=False)}\n"

    @classmethod
    def parse(cls, message: str) -> Meta | None:
        for line in reversed(message.splitlines()):
            if line.startswith(_META_PREFIX):
                try:
                    data: dict[str, Any] = json.loads(line[len(_META_PREFIX):])
                    trigger = data["trigger"] if data["trigger"] in TRIGGERS else "manual"
                    return cls(
                        id=str(data["id"]), time=float(data["time"]), trigger=cast(Trigger, trigger),
                        session_id=data.get("session_id"), step=data.get("step"),
                        summary=str(data.get("summary", "")), files=list(data.get("files") or []),
                        covered=None if data.get("covered") is None else list(data["covered"]),
                        skipped=list(data.get("skipped") or []), buffers=list(data.get("buffers") or []),
                    )
                except (ValueError, KeyError, TypeError):
                    return None
        return None


def with_skipped(summary: str, skipped: list[str]) -> str:
    """The summary, plus a note on files not saved because of their size."""
    if not skipped:
        return summary
    if len(skipped) == 1:
        return f"{summary} ({skipped[0]} not saved: over the size limit)"
    return f"{summary} ({len(skipped)} files not saved: over the size limit)"


def summarize(trigger: str, files: list[str], total: int | None = None) -> str:
    """A one-line summary: "before edit: a.py, b.py and 3 more"."""
    total = len(files) if total is None else total
    what = {"edit": "before an edit", "accept": "before accepting a proposal", "command": "after a command",
            "manual": "manual checkpoint", "restore": "before a restore"}.get(trigger, trigger)
    if total == 0:
        return f"{what} (no file changes)" if trigger == "command" else what
    shown = ", ".join(files[:3])
    more = f" and {total - 3} more" if total > 3 else ""
    noun = "file" if total == 1 else "files"
    if trigger == "command":
        return f"{what}: {total} {noun} changed ({shown}{more})"
    return f"{what}: {shown}{more}"



def created_at(when: float) -> str:
    """ISO 8601 with the local offset: "2026-12-03T14:03:12+01:00"."""
    return datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds")


def human_time(when: float, now: float | None = None) -> str:
    """Local time for people: "14:03:12" today, "yesterday 14:03", "2 Dec 14:03", "2 Dec 2025 14:03"."""
    moment = datetime.fromtimestamp(when)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    if moment.date() == today:
        return moment.strftime("%H:%M:%S")
    if moment.date() == today - timedelta(days=1):
        return moment.strftime("yesterday %H:%M")
    year = "" if moment.year == today.year else f" {moment.year}"
    return f"{moment.day} {moment.strftime('%b')}{year} {moment.strftime('%H:%M')}"
