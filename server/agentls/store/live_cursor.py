"""Where a reader of the store is: the last rowid (or time) seen of each table (``Overview.poll``)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from agentls.store.db import Store

#: How far behind the store a reader may resume: rowids of a table, and seconds of end and update times.
CATCH_UP_ROWS = 2_000
CATCH_UP_S = 3_600.0
_MAX_ROWID = 2**63 - 1


@dataclass(frozen=True)
class Cursor:
    """A position in the store: the last rowid seen of each table written to, and the last end time seen
    (ends are updates, which move no rowid). ``str`` and ``parse`` make it an SSE ``Last-Event-ID``."""

    events: int = 0
    usage: int = 0
    sessions: int = 0
    ended: float = 0.0
    plans: float = 0.0
    executions: int = 0
    logs: int = 0
    checkpoints: int = 0

    def __str__(self) -> str:
        return "_".join(repr(getattr(self, f.name)) for f in dataclasses.fields(self))

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor ``str`` gave; ``ValueError`` if ``text`` is not one."""
        parts = text.split("_")
        fields = dataclasses.fields(cls)
        if len(parts) != len(fields):
            raise ValueError(f"not a store cursor: {text[:40]!r}")
        values: dict[str, Any] = {}
        for part, f in zip(parts, fields, strict=True):
            try:
                value = float(part) if f.type == "float" else int(part) if len(part) < 20 else -1
            except ValueError:
                value = -1
            if not (0 <= value <= _MAX_ROWID and math.isfinite(value)):
                raise ValueError(f"not a store cursor: {f.name} is out of range")
            values[f.name] = value
        return cls(**values)

    def within(self, now: Cursor) -> Cursor:
        """This cursor moved forward to at most ``CATCH_UP_*`` behind ``now``, and back to ``now`` where it is
        ahead: a reader resuming from long ago gets what changed lately, not the store's history."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            mine, latest = getattr(self, f.name), getattr(now, f.name)
            values[f.name] = min(max(mine, latest - (CATCH_UP_S if f.type == "float" else CATCH_UP_ROWS)), latest)
        return Cursor(**values)

    @classmethod
    def now(cls, store: Store) -> Cursor:
        row = store.fetch(
            "SELECT (SELECT COALESCE(MAX(rowid), 0) FROM session_events), (SELECT COALESCE(MAX(rowid), 0) FROM usage), "
            "(SELECT COALESCE(MAX(rowid), 0) FROM sessions), (SELECT COALESCE(MAX(ended), 0.0) FROM sessions), "
            "(SELECT COALESCE(MAX(updated), 0.0) FROM plans), (SELECT COALESCE(MAX(rowid), 0) FROM plan_executions), "
            "(SELECT COALESCE(MAX(rowid), 0) FROM plan_logs), (SELECT COALESCE(MAX(rowid), 0) FROM checkpoints)")[0]
        return cls(*row)
