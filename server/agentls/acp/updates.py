"""Session events as ACP ``session/update`` notifications: one mapping for a live session and for the replay
of a stored one (``session/load``), so both read the same.

An event is taken as its kind and its fields (``dataclasses.asdict`` of a live event, or the stored row):
text -> ``agent_message_chunk``, thinking -> ``agent_thought_chunk``, a tool call -> ``tool_call`` (its ACP
kind, a title, absolute locations, the input), its result -> ``tool_call_update``, a proposed change ->
an ``edit`` tool call with ``diff`` content, usage -> ``usage_update``, a notice -> a line of the message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from acp import helpers
from acp.schema import Cost, ToolCallLocation, UsageUpdate

Update = Any  # one of acp.schema's SessionUpdate models


def _abs(root: Path, path: str) -> str:
    return path if os.path.isabs(path) else str(root / path)


def change_id(path: str) -> str:
    """The tool call id of the proposed change to ``path`` (stable: the permission request reuses it)."""
    return f"change:{path}"


def diff_content(root: Path, path: str, before: str | None, after: str | None) -> Any:
    """A ``diff`` tool content; a deleted file is shown as emptied."""
    return helpers.tool_diff_content(_abs(root, path), after if after is not None else "", before)


def change_call(root: Path, path: str, before: str | None, after: str | None, status: str = "pending") -> Update:
    verb = "Create" if before is None else "Delete" if after is None else "Edit"
    return helpers.start_tool_call(
        change_id(path), f"{verb} {path}", kind="delete" if after is None else "edit", status=status,  # type: ignore[arg-type]
        locations=[ToolCallLocation(path=_abs(root, path))], content=[diff_content(root, path, before, after)])


def _tokens(usage: dict[str, Any]) -> int:
    return int(sum(usage.get(key, 0) or 0 for key in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                                      "cache_read_input_tokens")))


def updates_for(kind: str, data: dict[str, Any], root: Path, context_window: int) -> list[Update]:
    """The ACP updates for one event (none for events a client has no use for)."""
    if kind == "TextDelta" and data.get("text"):
        return [helpers.update_agent_message_text(data["text"])]
    if kind == "ThinkingDelta" and data.get("text"):
        return [helpers.update_agent_thought_text(data["text"])]
    if kind == "Notice":
        return [helpers.update_agent_message_text(f"\n\n> {data['text']}\n\n")]
    if kind == "ToolCalled":
        locations = [ToolCallLocation(path=_abs(root, p)) for p in data.get("locations") or ()]
        return [helpers.start_tool_call(data["id"], data["summary"], kind=data.get("kind") or "other",
                                        status="in_progress", locations=locations or None,
                                        raw_input=data.get("input"))]
    if kind == "ToolFinished":
        text = data.get("content") or ""
        return [helpers.update_tool_call(data["id"], status="failed" if data.get("is_error") else "completed",
                                         content=[helpers.tool_content(helpers.text_block(text))] if text else None)]
    if kind == "ServerToolFinished":
        status = "failed" if data.get("is_error") else "completed"
        return [helpers.start_tool_call(data["id"], data["summary"], kind="fetch", status=status)]  # type: ignore[arg-type]
    if kind == "ChangeProposed":
        return [change_call(root, data["path"], data.get("before"), data.get("after"))]
    if kind == "ChangeResolved":
        return []
    if kind == "UsageUpdated":
        total = data.get("total") or {}
        return [UsageUpdate(session_update="usage_update", used=_tokens(total), size=context_window,
                            cost=Cost(amount=round(float(data.get("cost_usd") or 0.0), 6), currency="USD"))]
    if kind == "Retrying":
        return [helpers.update_agent_thought_text(
            f"\n(retrying in {float(data.get('delay_s') or 0):.0f} s: {data.get('reason', '')})\n")]
    return []
