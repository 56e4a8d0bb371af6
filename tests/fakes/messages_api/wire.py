"""Wire format: Message JSON, the SSE event sequence, error bodies, ids and token estimates.

Shapes follow the `anthropic` SDK's types (`Message`, `Usage`, `RawMessageStreamEvent`,
`ErrorResponse`); the SDK is the reference.
"""

from __future__ import annotations

import json
import math
import secrets
import string
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .script import RawInput, Reply, Text, ToolUse

_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str) -> str:
    return prefix + "01" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def new_message_id() -> str:
    return _new_id("msg_")


def new_tool_use_id() -> str:
    return _new_id("toolu_")


def new_server_tool_use_id() -> str:
    return _new_id("srvtoolu_")


def new_request_id() -> str:
    return _new_id("req_")


def dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def raw_input(value: object) -> str:
    """A tool call's input as streamed: its JSON, or a ``RawInput``'s characters as they are."""
    return str(value) if isinstance(value, RawInput) else dumps(value)


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


def _block_chars(block: dict[str, Any]) -> int:
    kind = block["type"]
    if kind == "text":
        return len(block["text"])
    if kind in ("tool_use", "server_tool_use"):
        return len(dumps(block["input"]))
    if kind in ("thinking", "redacted_thinking"):
        return 0  # counted from the full thinking text (an omitted block still costs its tokens)
    return len(dumps(block.get("content")))


def estimate_output_tokens(content: list[dict[str, Any]], thinking: Sequence[Any] = ()) -> int:
    """One token per 4 characters of text, tool input JSON and full thinking text (at least 1)."""
    return _tokens(sum(_block_chars(b) for b in content) + sum(len(t.text) for t in thinking))


def _server_tool_use(reply: Reply, content: list[dict[str, Any]]) -> dict[str, int] | None:
    names = [b["name"] for b in content if b["type"] == "server_tool_use"]
    u = reply.usage
    searches = u.web_search_requests if u.web_search_requests is not None else names.count("web_search")
    fetches = u.web_fetch_requests if u.web_fetch_requests is not None else names.count("web_fetch")
    if not names and u.web_search_requests is None and u.web_fetch_requests is None:
        return None
    return {"web_search_requests": searches, "web_fetch_requests": fetches}


def message_json(reply: Reply, model: object, content: list[dict[str, Any]], request_body: object,
                 thinking: Sequence[Any] = ()) -> dict[str, Any]:
    """The `Message` JSON around rendered `content`: id, stop reason and details, container, usage."""
    u = reply.usage
    output = u.output_tokens if u.output_tokens is not None else estimate_output_tokens(content, thinking)
    usage: dict[str, Any] = {
        "input_tokens": u.input_tokens if u.input_tokens is not None else estimate_input_tokens(request_body),
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output,
        "output_tokens_details": {"thinking_tokens": min(output, _tokens(sum(len(t.text) for t in thinking)))
                                  if thinking else 0},
        "server_tool_use": _server_tool_use(reply, content),
        "service_tier": "standard",
    }
    stop_reason = reply.resolved_stop_reason()
    details = dict(reply.stop_details) if reply.stop_details is not None else None
    if stop_reason == "refusal" and details is None:
        details = {"type": "refusal", "category": None, "explanation": None}
    container = reply.container
    if container is None and any(b["type"] == "server_tool_use" and "code_execution" in b["name"] for b in content):
        container = "container_" + _new_id("")[2:]
    return {
        "id": reply.id or new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model if isinstance(model, str) else "claude-fake",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": reply.stop_sequence,
        "stop_details": details,
        "container": {"id": container, "expires_at": "2099-01-01T00:00:00Z"} if container else None,
        "usage": usage,
    }


def render_message(reply: Reply, request_body: object) -> dict[str, Any]:
    """`reply` as given (no thinking rules, no signatures): for tests of the wire format alone."""
    content: list[dict[str, Any]] = []
    for block in reply.content:
        if isinstance(block, Text):
            content.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUse):
            content.append({"type": "tool_use", "id": block.id or new_tool_use_id(), "name": block.name,
                            "input": _input(block.input)})
    model = reply.model or (request_body.get("model") if isinstance(request_body, dict) else None)
    return message_json(reply, model, content, request_body)


def split(text: str, chunk_size: int) -> list[str]:
    """Split into pieces of at most `chunk_size` characters, and at least two pieces when possible."""
    if not text:
        return []
    size = max(1, min(chunk_size, math.ceil(len(text) / 2)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _block_events(index: int, block: dict[str, Any], chunk_size: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """content_block_start, its deltas, content_block_stop: as the API streams each kind of block."""
    kind = block["type"]
    deltas: list[dict[str, Any]] = []
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in split(block["text"], chunk_size)]
    elif kind == "thinking":
        # text in thinking_delta pieces (none when omitted), then one signature_delta
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in split(block["thinking"], chunk_size)]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind in ("tool_use", "server_tool_use"):
        # the input starts empty, then its JSON in pieces after an empty first piece
        start = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": piece}
                  for piece in ["", *split(raw_input(block["input"]), chunk_size)]]
    else:  # redacted thinking and server tool results arrive whole
        start = block
    yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": start}
    for delta in deltas:
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def stream_events(message: dict[str, Any], chunk_size: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events (name, data) for a rendered message, in the API's order.

    message_start (empty content, stop_reason null, output_tokens 1), then per block
    content_block_start / content_block_delta... / content_block_stop, a `ping` after the first
    content_block_start (where the API sends one) and between blocks, then message_delta
    (stop_reason, stop_sequence, stop_details, container, cumulative usage) and message_stop.
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
                "stop_details": None,
                "container": None,
                "usage": start_usage,
            },
        },
    )
    blocks = message["content"]
    for index, block in enumerate(blocks):
        events = _block_events(index, block, chunk_size)
        yield next(events)
        if index == 0:
            yield "ping", {"type": "ping"}
        yield from events
        if index < len(blocks) - 1:
            yield "ping", {"type": "ping"}
    delta = {key: message.get(key) for key in ("stop_reason", "stop_sequence", "stop_details", "container")}
    counts = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens",
              "server_tool_use")
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": {key: usage[key] for key in counts}}
    yield "message_stop", {"type": "message_stop"}


def sse_frame(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {dumps(data)}\n\n".encode()


def error_body(error_type: str, message: str, request_id: str | None) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}


def _input(value: object) -> object:
    """A tool call's input as sent: an object normally; a scripted input of another JSON type is sent as it is
    (a malformed call a client must survive)."""
    return dict(value) if isinstance(value, Mapping) else value  # type: ignore[arg-type]
