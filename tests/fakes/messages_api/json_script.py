"""The JSON form of the scripting vocabulary (standalone mode); the format is in the package docstring."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .script import (
    AUTO_THINKING,
    Block,
    Fault,
    Outcome,
    RedactedThinking,
    Reply,
    ServerResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolUse,
    Usage,
)

_REPLY_KEYS = {
    "text",
    "content",
    "stop_reason",
    "stop_sequence",
    "usage",
    "model",
    "id",
    "chunk_size",
    "event_delay",
    "thinking",
    "stop_details",
    "container",
}
_USAGE_KEYS = {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
               "web_search_requests", "web_fetch_requests"}
_FAULT_KEYS = {
    "error": {
        "fault",
        "status",
        "message",
        "error_type",
        "retry_after",
        "should_retry",
        "headers",
        "after_events",
        "reply",
    },
    "drop": {"fault", "after_events", "reply", "reset"},
    "delay": {"fault", "seconds", "then"},
}


class ScriptError(ValueError):
    """A JSON script item that does not follow the vocabulary."""


def parse_script(data: object) -> list[Outcome]:
    """Parse a JSON script (a list of items) into `Reply` / `Fault` objects."""
    if not isinstance(data, list):
        raise ScriptError("script: expected a JSON list of replies and faults")
    return [parse_item(item, f"script[{i}]") for i, item in enumerate(data)]


def load_script(path: str) -> list[Outcome]:
    with open(path, encoding="utf-8") as f:
        return parse_script(json.load(f))


def parse_item(item: object, where: str = "item") -> Outcome:
    obj = _obj(item, where)
    if "fault" in obj:
        return _parse_fault(obj, where)
    return _parse_reply(obj, where)


def _obj(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ScriptError(f"{where}: expected an object, got {type(item).__name__}")
    return item


def _check_keys(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ScriptError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _parse_reply(obj: dict[str, Any], where: str) -> Reply:
    _check_keys(obj, _REPLY_KEYS, where)
    if ("text" in obj) == ("content" in obj):
        raise ScriptError(f"{where}: a reply needs exactly one of 'text' or 'content'")
    blocks: list[Block]
    if "text" in obj:
        blocks = [Text(str(obj["text"]))]
    else:
        if not isinstance(obj["content"], list):
            raise ScriptError(f"{where}.content: expected a list of blocks")
        blocks = [_parse_block(b, f"{where}.content[{i}]") for i, b in enumerate(obj["content"])]
    usage = _obj(obj.get("usage", {}), f"{where}.usage")
    _check_keys(usage, _USAGE_KEYS, f"{where}.usage")
    return Reply(
        content=blocks,
        stop_reason=obj.get("stop_reason"),
        stop_sequence=obj.get("stop_sequence"),
        usage=Usage(**usage),
        model=obj.get("model"),
        id=obj.get("id"),
        chunk_size=int(obj.get("chunk_size", 16)),
        event_delay=float(obj.get("event_delay", 0.0)),
        thinking=obj.get("thinking", AUTO_THINKING),
        stop_details=obj.get("stop_details"),
        container=obj.get("container"),
    )


def _parse_block(item: object, where: str) -> Block:
    obj = _obj(item, where)
    kind = obj.get("type")
    if kind == "text":
        _check_keys(obj, {"type", "text"}, where)
        return Text(str(obj["text"]))
    if kind in ("tool_use", "server_tool_use"):
        _check_keys(obj, {"type", "name", "input", "id"}, where)
        make = ToolUse if kind == "tool_use" else ServerToolUse
        return make(str(obj["name"]), _obj(obj.get("input", {}), f"{where}.input"), obj.get("id"))
    if kind == "thinking":
        _check_keys(obj, {"type", "thinking", "update"}, where)
        return Thinking(str(obj.get("thinking", "")), bool(obj.get("update", False)))
    if kind == "redacted_thinking":
        _check_keys(obj, {"type"}, where)
        return RedactedThinking()
    if isinstance(kind, str) and kind.endswith("_tool_result"):
        _check_keys(obj, {"type", "content", "tool_use_id"}, where)
        return ServerResult(kind, obj.get("content"), obj.get("tool_use_id"))
    raise ScriptError(f"{where}: block type must be 'text', 'tool_use', 'thinking', 'redacted_thinking', "
                      f"'server_tool_use' or a '*_tool_result', got {kind!r}")


def _parse_fault(obj: dict[str, Any], where: str) -> Fault:
    kind = obj["fault"]
    if kind not in _FAULT_KEYS:
        raise ScriptError(f"{where}: fault must be one of {sorted(_FAULT_KEYS)}, got {kind!r}")
    _check_keys(obj, _FAULT_KEYS[kind], where)
    reply = _parse_reply(_obj(obj["reply"], f"{where}.reply"), f"{where}.reply") if "reply" in obj else None
    if kind == "error":
        if "status" not in obj:
            raise ScriptError(f"{where}: an error fault needs 'status'")
        return Fault.error(
            int(obj["status"]),
            obj.get("message"),
            error_type=obj.get("error_type"),
            retry_after=obj.get("retry_after"),
            should_retry=obj.get("should_retry"),
            headers=obj.get("headers"),
            after_events=obj.get("after_events"),
            reply=reply,
        )
    if kind == "drop":
        return Fault.drop(obj.get("after_events", 3), reply=reply, reset=bool(obj.get("reset", False)))
    then = parse_item(obj["then"], f"{where}.then") if "then" in obj else None
    return Fault.delay(float(obj.get("seconds", 0.0)), then)
