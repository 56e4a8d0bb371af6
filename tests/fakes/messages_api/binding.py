"""Thinking blocks bound to the model and the transcript, as the current API signs and checks them.

Platform docs, "Preserved thinking" (prefix checks) and "Thinking" (preserving thinking blocks):

- Every `thinking` block carries a `signature`, every `redacted_thinking` block its `data`: opaque values
  that bind the block to the model that wrote it and to the prefix it was produced after (top-level
  `system`, `tools`, and every message and block before it; `cache_control` markers do not count).
- A signature that does not verify (tampered, or text changed under `display: "summarized"`) is a 400
  ``Invalid `signature` in `thinking` block``; `prefix_mismatch_behavior` does not apply to it.
- Within the latest assistant message the thinking blocks must be exactly those the model produced, in
  their places: no rearranging, editing or partial dropping (and in a tool-use turn, no dropping at all).
- Prefix check (models with preserved thinking): a block whose prefix changed is invalid, and so is every
  thinking block after it. Removing a leading run of thinking blocks (oldest first) is allowed; removing
  one from the middle invalidates every later one. Invalid blocks are a 400 ("bound to a different
  conversation") unless the request sets `thinking.block_binding.prefix_mismatch_behavior: "drop_block"`
  (beta `thinking-binding-controls-2026-08-01`), which drops them and reports each in
  `input_transformations`.
- Model check: a block another model wrote is dropped without an error.

Signatures here are base64 JSON plus an HMAC under a secret of this fake instance (another "account").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

BINDING_BETA = "thinking-binding-controls-2026-08-01"
THINKING_TYPES = ("thinking", "redacted_thinking")
_PREFIX = "Ep"


def clean(value: Any) -> Any:
    """`value` without `cache_control` markers and None fields, at any depth (they are not the prefix)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k != "cache_control" and v is not None}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def _empty_text(block: object) -> bool:
    return isinstance(block, dict) and block.get("type") == "text" and not block.get("text")


def _visible(content: object) -> list[Any]:
    """A message's content as the prefix sees it: string content as one text block, thinking left out
    (thinking has its own ordering rule, so removing a leading run of it changes no prefix), and empty
    text blocks left out (the API never takes them back, so a client must drop them)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    return [clean(b) for b in content
            if not (isinstance(b, dict) and b.get("type") in THINKING_TYPES) and not _empty_text(b)]


def position(content: list[Any], index: int) -> int:
    """A block's place in its message, not counting empty text blocks before it."""
    return sum(1 for block in content[:index] if not _empty_text(block))


def prefix_digest(body: dict[str, Any], message_index: int, blocks_before: list[Any]) -> str:
    """Digest of everything before a block at `messages[message_index]`, after `blocks_before` in it."""
    system = body.get("system")
    if isinstance(system, str):
        system = [{"type": "text", "text": system}] if system else []
    messages = body.get("messages") or []
    earlier = [{"role": m.get("role"), "content": _visible(m.get("content"))}
               for m in messages[:message_index] if isinstance(m, dict)]
    prefix = [clean(system or []), clean(body.get("tools") or []), earlier, _visible(blocks_before)]
    text = json.dumps(prefix, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Seal:
    """What a signature says about its block."""

    model: str
    prefix: str  # prefix_digest at production
    text: str  # text_hash of the full thinking text
    omitted: bool  # display was "omitted": the text sent back is ignored
    turn: str  # one per response
    ordinal: int  # this block's place among the response's thinking blocks
    count: int  # thinking blocks in that response
    seq: int  # thinking blocks in the conversation before this one
    position: int  # index in its message's content

    def to_json(self) -> dict[str, Any]:
        return {"m": self.model, "p": self.prefix, "t": self.text, "o": self.omitted, "u": self.turn,
                "q": self.ordinal, "n": self.count, "k": self.seq, "j": self.position}


class Signer:
    """Makes and reads signatures under one secret (one fake instance is one account)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def seal(self, seal: Seal) -> str:
        payload = json.dumps(seal.to_json(), sort_keys=True, separators=(",", ":")).encode()
        mac = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:32]
        return _PREFIX + base64.urlsafe_b64encode(payload + b"." + mac.encode()).decode().rstrip("=")

    def open(self, value: object) -> Seal | None:
        """The seal of a signature this fake made, or None (garbled, forged, another account's)."""
        if not isinstance(value, str) or not value.startswith(_PREFIX):
            return None
        raw = value[len(_PREFIX):]
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            payload, _, mac = decoded.rpartition(b".")
            expected = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:32].encode()
            if not hmac.compare_digest(mac, expected):
                return None
            d = json.loads(payload)
            return Seal(d["m"], d["p"], d["t"], d["o"], d["u"], d["q"], d["n"], d["k"], d["j"])
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Found:
    """A thinking block of the request: where it is and what its signature says."""

    message: int
    index: int
    block: dict[str, Any]
    seal: Seal

    @property
    def path(self) -> str:
        return f"messages.{self.message}.content.{self.index}"


@dataclass
class Verdict:
    """The outcome of the thinking checks: an error message, or the blocks the API drops."""

    error: str | None = None
    transformations: list[dict[str, str]] = field(default_factory=list)


def thinking_blocks(body: dict[str, Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for j, block in enumerate(content):
                if isinstance(block, dict) and block.get("type") in THINKING_TYPES:
                    yield i, j, block


def latest_assistant(messages: list[Any]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and messages[i].get("role") == "assistant":
            return i
    return None


MODIFIED = ("{path}: `thinking` or `redacted_thinking` blocks in the latest assistant message cannot be modified. "
            "These blocks must remain as they were in the original response.")
BOUND = ("{path}: Invalid `signature` in `thinking` block. The block is bound to a different conversation. "
         "Remove the block, or set `thinking.block_binding.prefix_mismatch_behavior` to \"drop_block\".")
NEEDS_BETA = f" That setting requires the `{BINDING_BETA}` value in the `anthropic-beta` header."


@dataclass
class Checker:
    """Checks the thinking blocks of one request (see the module docstring)."""

    signer: Signer
    #: tool_use id -> how many thinking blocks the response that called it carried
    served_thinking: dict[str, int]

    def check(self, body: dict[str, Any], *, model: str, prefix_check: bool, drop: bool, beta: bool) -> Verdict:
        verdict = Verdict()
        found: list[Found] = []
        for i, j, block in thinking_blocks(body):
            unsealed = self._unsealed(i, j, block)
            if isinstance(unsealed, str):
                return Verdict(error=unsealed)
            found.append(unsealed)
        readable = []
        for item in found:
            if item.seal.model != model:
                verdict.transformations.append(_dropped(item, "model_binding_mismatch"))
            else:
                readable.append(item)
        if (error := self._latest_unmodified(body, found)) is not None:
            return Verdict(error=error)
        if not prefix_check:
            return verdict
        invalid = self._prefix_failures(body, readable)
        if invalid and not drop:
            return Verdict(error=BOUND.format(path=invalid[0].path) + ("" if beta else NEEDS_BETA))
        verdict.transformations += [_dropped(item, "prefix_binding_mismatch") for item in invalid]
        return verdict

    def _unsealed(self, i: int, j: int, block: dict[str, Any]) -> Found | str:
        kind = block.get("type")
        path = f"messages.{i}.content.{j}"
        if "cache_control" in block:
            return f"{path}.{kind}.cache_control: Extra inputs are not permitted"
        seal = self.signer.open(block.get("signature") if kind == "thinking" else block.get("data"))
        if seal is None:
            return f"{path}: Invalid `data` in `redacted_thinking` block" if kind == "redacted_thinking" \
                else f"{path}: Invalid `signature` in `thinking` block"
        if kind == "thinking" and not seal.omitted and text_hash(str(block.get("thinking", ""))) != seal.text:
            return f"{path}: Invalid `signature` in `thinking` block"
        return Found(i, j, block, seal)

    def _latest_unmodified(self, body: dict[str, Any], found: list[Found]) -> str | None:
        messages = body.get("messages") or []
        latest = latest_assistant(messages)
        if latest is None:
            return None
        mine = [item for item in found if item.message == latest]
        path = f"messages.{latest}.content.{mine[0].index if mine else 0}"
        turns: dict[str, list[Found]] = {}
        for item in mine:
            turns.setdefault(item.seal.turn, []).append(item)
        content = _list(messages[latest])
        for items in turns.values():
            ordinals = [item.seal.ordinal for item in items]
            complete = ordinals == list(range(items[0].seal.count))
            placed = all(position(content, item.index) == item.seal.position for item in items)
            if not (complete and placed):
                return MODIFIED.format(path=path)
        if not mine and self._tool_turn_lost_thinking(messages, latest):
            return MODIFIED.format(path=path)
        return None

    def _tool_turn_lost_thinking(self, messages: list[Any], latest: int) -> bool:
        """A tool-use turn being answered must carry its thinking back (dropping all of it is an edit too)."""
        answered = latest + 1 < len(messages) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in _list(messages[latest + 1]))
        calls = [b.get("id") for b in _list(messages[latest]) if isinstance(b, dict) and b.get("type") == "tool_use"]
        return answered and any(self.served_thinking.get(str(call), 0) > 0 for call in calls)

    @staticmethod
    def _prefix_failures(body: dict[str, Any], readable: list[Found]) -> list[Found]:
        messages = body.get("messages") or []
        for n, item in enumerate(readable):
            in_order = n == 0 or item.seal.seq == readable[n - 1].seal.seq + 1
            content = _list(messages[item.message])
            same_prefix = prefix_digest(body, item.message, content[: item.index]) == item.seal.prefix
            if not (in_order and same_prefix):
                return readable[n:]
        return []


def _list(message: object) -> list[Any]:
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, list) else []


def _dropped(item: Found, reason: str) -> dict[str, str]:
    return {"type": "thinking_dropped", "path": item.path, "reason": reason}


def thinking_count(body: dict[str, Any]) -> int:
    return sum(1 for _ in thinking_blocks(body))
