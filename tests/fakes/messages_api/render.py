"""A scripted `Reply` as the model would send it for one request: thinking, signatures, ids, usage.

What the request asks for decides the thinking (see `script`'s docstring): `thinking` omitted means the
model's default (current models think), `{"type": "between_tools"}` keeps only the progress updates,
`display` decides whether their text is sent. Every thinking block is signed for the request's model
and prefix (`binding`), and the fake remembers what it served: which tool calls came with thinking
(a tool-use turn must carry it back) and which turns paused (only those may be continued by sending
them back as the last message).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import wire
from .binding import Seal, Signer, clean, position, prefix_digest, text_hash, thinking_count
from .models import Profile
from .script import (
    UPDATE_MIN_CHARS,
    RawInput,
    RedactedThinking,
    Reply,
    ServerResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolUse,
)
from .script import Block as ScriptBlock

THINKING_OFF = "off"


def thinking_mode(body: dict[str, Any], profile: Profile | None) -> tuple[str, str]:
    """(mode, display) for a request: mode "adaptive", "between_tools" or "off"."""
    config = body.get("thinking")
    default_display = profile.default_display if profile else "summarized"
    if not isinstance(config, dict):
        return ("adaptive" if profile is not None and profile.thinks_by_default else THINKING_OFF), default_display
    kind = config.get("type")
    if kind == "between_tools":
        return "between_tools", "updates"
    if kind in ("adaptive", "enabled"):
        display = config.get("display")
        return "adaptive", display if isinstance(display, str) else default_display
    return THINKING_OFF, default_display


def content_digest(content: object) -> str:
    text = json.dumps(clean(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def continued(body: dict[str, Any]) -> list[Any]:
    """The content of a trailing assistant message (a paused turn being continued), else []."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    if isinstance(last, dict) and last.get("role") == "assistant" and isinstance(last.get("content"), list):
        return list(last["content"])
    return []


@dataclass
class Renderer:
    """Renders replies and remembers what was served (thread-safe: requests arrive on many threads)."""

    signer: Signer = field(default_factory=Signer)
    served_thinking: dict[str, int] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shape(self, reply: Reply, body: dict[str, Any], profile: Profile | None) -> list[ScriptBlock]:
        """The reply's blocks as this request gets them: thinking added, moved into updates, or left out."""
        mode, _ = thinking_mode(body, profile)
        blocks = list(reply.content)
        if mode == THINKING_OFF:
            return [b for b in blocks if not isinstance(b, Thinking | RedactedThinking)]
        if profile is not None and profile.updates_in_thinking:
            blocks = [_as_update(b, blocks[n + 1] if n + 1 < len(blocks) else None) for n, b in enumerate(blocks)]
        scripted = any(isinstance(b, Thinking | RedactedThinking) for b in reply.content)
        if mode == "between_tools":
            return [b for b in blocks if not (isinstance(b, Thinking) and not b.update)
                    and not isinstance(b, RedactedThinking)]
        if not scripted and reply.thinking is not None:
            # a continued turn starts with the results of the server tools it paused on, then thinks
            at = next((n for n, b in enumerate(blocks) if not isinstance(b, ServerResult)), len(blocks))
            blocks.insert(at, Thinking(reply.thinking))
        return blocks

    def render(self, reply: Reply, body: object, profile: Profile | None) -> dict[str, Any]:
        """The complete `Message` JSON for `reply`, with ids, signatures and usage filled in."""
        request = body if isinstance(body, dict) else {}
        model = reply.model or (request.get("model") if isinstance(request.get("model"), str) else "claude-fake")
        mode, display = thinking_mode(request, profile)
        before = continued(request)
        messages = request.get("messages") or []
        index = len(messages) - 1 if before else len(messages)
        shaped = self.shape(reply, request, profile)
        turn = secrets.token_hex(6)
        count = sum(1 for b in shaped if isinstance(b, Thinking | RedactedThinking))
        seq = thinking_count(request)
        content: list[dict[str, Any]] = []
        thought = 0
        last_server_id = next((str(b.get("id")) for b in reversed(before)
                               if isinstance(b, dict) and b.get("type") == "server_tool_use"), "")
        for block in shaped:
            if isinstance(block, Thinking | RedactedThinking):
                whole = before + content
                seal = Seal(str(model), prefix_digest(request, index, whole),
                            text_hash(block.text if isinstance(block, Thinking) else ""),
                            display != "summarized", turn, thought, count, seq + thought, position(whole, len(whole)))
                thought += 1
                if isinstance(block, RedactedThinking):
                    content.append({"type": "redacted_thinking", "data": self.signer.seal(seal)})
                else:
                    shown = display == "summarized" or (block.update and display == "updates")
                    content.append({"type": "thinking", "thinking": block.text if shown else "",
                                    "signature": self.signer.seal(seal)})
            elif isinstance(block, ServerToolUse):
                last_server_id = block.id or wire.new_server_tool_use_id()
                content.append({"type": "server_tool_use", "id": last_server_id, "name": block.name,
                                "input": _input(block.input)})
            elif isinstance(block, ServerResult):
                content.append({"type": block.type, "tool_use_id": block.tool_use_id or last_server_id,
                                "content": block.content})
            else:
                content.append(_plain(block))
        message = wire.message_json(reply, model, content, request, [b for b in shaped if isinstance(b, Thinking)])
        if mode == THINKING_OFF:
            message["usage"]["output_tokens_details"] = None
        self._remember(before, content, message["stop_reason"], count)
        return message

    def _remember(self, before: list[Any], content: list[dict[str, Any]], stop_reason: str, count: int) -> None:
        whole = before + content
        thinking = sum(1 for b in whole if isinstance(b, dict) and b.get("type") in ("thinking", "redacted_thinking"))
        with self._lock:
            for block in content:
                if block["type"] == "tool_use":
                    self.served_thinking[block["id"]] = thinking
            if stop_reason == "pause_turn":
                self.paused.add(content_digest(whole))

    def is_paused_turn(self, content: object) -> bool:
        with self._lock:
            return content_digest(content) in self.paused


def _as_update(block: ScriptBlock, following: ScriptBlock | None) -> ScriptBlock:
    """Notes longer than a remark, written right before a tool call, come back as a thinking block."""
    if isinstance(block, Text) and isinstance(following, ToolUse | ServerToolUse) \
            and len(block.text) >= UPDATE_MIN_CHARS:
        return Thinking(block.text, update=True)
    return block


def _plain(block: ScriptBlock) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    assert isinstance(block, ToolUse)
    return {"type": "tool_use", "id": block.id or wire.new_tool_use_id(), "name": block.name,
            "input": _input(block.input)}


def _input(value: object) -> object:
    """A tool call's input as sent: an object normally; a scripted input of another JSON type is sent as it is
    (a malformed call a client must survive)."""
    if isinstance(value, RawInput):
        return value  # streamed as it is (wire.raw_input)
    return dict(value) if isinstance(value, Mapping) else value  # type: ignore[arg-type]
