"""Wire format: Message JSON, the SSE event sequence, error bodies, ids and token estimates.

Shapes follow the `anthropic` SDK's types (`Message`, `Usage`, `RawMessageStreamEvent`,
`ErrorResponse`); the SDK is the reference.
"""

from __future__ import annotations

import json
import math
import secrets
import string
from collections.abc import Iterator
from typing import Any

from .script import Reply, Text, ToolUse

_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str) -> str:
    return prefix + "01" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def new_message_id() -> str:
    return _new_id("msg_")


def new_tool_use_id() -> str:
    return _new_id("toolu_")


def new_request_id() -> str:
    return _new_id("req_")


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def estimate_input_tokens(body: object) -> int:
    """Deterministic estimate: one token per 4 characters of the compact, key-sorted JSON of the
    request's `system`, `messages` and `tools` (at least 1). count_tokens and the default
    `usage.input_tokens` of a reply use the same estimate, so they agree."""
    if not isinstance(body, dict):
        return 1
    counted = {key: body[key] for key in ("system", "messages", "tools") if key in body}
    return _tokens(len(json.dumps(counted, ensure_ascii=False, sort_keys=True, separators=(",", ":"))))


def estimate_output_tokens(content: list[dict[str, Any]]) -> int:
    """One token per 4 characters of text / tool input JSON (at least 1, as with the real API)."""
    chars = 0
    for block in content:
        chars += len(block["text"]) if block["type"] == "text" else len(dumps(block["input"]))
    return _tokens(chars)


def render_message(reply: Reply, request_body: object) -> dict[str, Any]:
    """The complete `Message` JSON for `reply`, with ids assigned and usage filled in."""
    content: list[dict[str, Any]] = []
    for block in reply.content:
        if isinstance(block, Text):
            content.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUse):
            content.append(
                {
                    "type": "tool_use",
                    "id": block.id or new_tool_use_id(),
                    "name": block.name,
                    "input": dict(block.input),
                }
            )
    model = reply.model
    if model is None:
        requested = request_body.get("model") if isinstance(request_body, dict) else None
        model = requested if isinstance(requested, str) else "claude-fake"
    u = reply.usage
    usage = {
        "input_tokens": u.input_tokens if u.input_tokens is not None else estimate_input_tokens(request_body),
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": u.output_tokens if u.output_tokens is not None else estimate_output_tokens(content),
        "service_tier": "standard",
    }
    return {
        "id": reply.id or new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.resolved_stop_reason(),
        "stop_sequence": reply.stop_sequence,
        "usage": usage,
    }


def split(text: str, chunk_size: int) -> list[str]:
    """Split into pieces of at most `chunk_size` characters, and at least two pieces when possible."""
    if not text:
        return []
    size = max(1, min(chunk_size, math.ceil(len(text) / 2)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream_events(message: dict[str, Any], chunk_size: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events (name, data) for a rendered message, in the API's order.

    message_start (empty content, stop_reason null, output_tokens 1), then per block
    content_block_start / content_block_delta... / content_block_stop, a `ping` after the first
    content_block_start (where the API sends one) and between blocks, then message_delta
    (stop_reason, stop_sequence, cumulative usage) and message_stop. A tool_use block starts with
    `input: {}` and an empty `partial_json` delta, then the input's JSON in pieces, as the API does.
    """
    usage = message["usage"]
    start_usage = {**usage, "output_tokens": min(1, usage["output_tokens"])}
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                **message,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
    )
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            deltas = [{"type": "text_delta", "text": piece} for piece in split(block["text"], chunk_size)]
        else:
            yield (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}},
            )
            pieces = ["", *split(dumps(block["input"]), chunk_size)]
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        if index < len(message["content"]) - 1:
            yield "ping", {"type": "ping"}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
            "usage": {
                key: usage[key]
                for key in (
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                    "output_tokens",
                )
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}


def sse_frame(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {dumps(data)}\n\n".encode()


def error_body(error_type: str, message: str, request_id: str | None) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
