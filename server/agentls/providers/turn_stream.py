"""A streamed turn, assembled from the Messages API's raw stream events, each read once.

The SDK's accumulator (``messages.stream``) re-parses a tool call's whole input JSON on every
``input_json_delta`` and copies the bytes so far each time: a 10 MB input in small deltas takes
minutes. Here the pieces of each block (text, thinking, tool input) are collected and joined once,
at the block's ``content_block_stop``, and a tool input is parsed once there. Everything else is
kept as the SDK keeps it: every block in order (text with citations, thinking with its signature,
redacted thinking, tool calls, and the API's own tool blocks as ``OpaqueBlock``), the stop reason
and details, the container, and the usage (a ``message_delta``'s counts are cumulative and replace
the ``message_start`` ones that it carries).

Pure: it reads the SDK's event models by attribute (``anthropic.py`` owns the SDK import).
"""

from __future__ import annotations

import json
from typing import Any

from agentls.providers.base import (
    AssistantBlock,
    EventCallback,
    OpaqueBlock,
    RedactedThinkingBlock,
    StopDetails,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    ToolUseStarted,
    TurnResult,
    Usage,
)

#: Blocks whose input arrives as ``input_json_delta`` pieces.
_TAKES_INPUT = ("tool_use", "server_tool_use")
#: The block attribute each kind of block's pieces are joined into.
_JOINED = {"text": "text", "thinking": "thinking", **{kind: "input" for kind in _TAKES_INPUT}}
#: Usage counts a ``message_delta`` replaces when it carries them.
_USAGE_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "server_tool_use",
                 "output_tokens_details")


class TurnStream:
    """Feed it the stream's events in order; ``result`` is the turn once ``stop_reason`` is set."""

    def __init__(self, on_event: EventCallback | None = None) -> None:
        self._on_event = on_event
        self.message: Any = None  # message_start's message: model, usage, container
        self.blocks: list[Any] = []
        self._pieces: dict[int, list[str]] = {}
        self.stop_reason: str | None = None
        self.stop_details: Any = None

    def feed(self, event: Any) -> None:
        kind = event.type
        if kind == "message_start":
            self.message = event.message
            self.blocks = list(event.message.content)
            self.stop_reason, self.stop_details = event.message.stop_reason, event.message.stop_details
        elif kind == "content_block_start":
            self._start(event.content_block)
        elif kind == "content_block_delta":
            self._delta(event.index, event.delta)
        elif kind == "content_block_stop":
            block = self._join(event.index)
            if block.type == "thinking" and block.thinking:
                self._emit(ThinkingDelta("\n"))  # the block is complete: its last sentence is too
        elif kind == "message_delta":
            self._message_delta(event)

    def _emit(self, event: Any) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _start(self, block: Any) -> None:
        index = len(self.blocks)
        self.blocks.append(block)
        if block.type in _TAKES_INPUT:
            self._pieces[index] = []
            self._emit(ToolUseStarted(block.id, block.name, server=block.type == "server_tool_use"))
        elif block.type in _JOINED:
            self._pieces[index] = [getattr(block, _JOINED[block.type])]

    def _delta(self, index: int, delta: Any) -> None:
        block, pieces = self.blocks[index], self._pieces.get(index)
        kind = delta.type
        if kind == "text_delta" and block.type == "text" and pieces is not None:
            pieces.append(delta.text)
            self._emit(TextDelta(delta.text))
        elif kind == "thinking_delta" and block.type == "thinking" and pieces is not None:
            pieces.append(delta.thinking)
            self._emit(ThinkingDelta(delta.thinking))
        elif kind == "input_json_delta" and block.type in _TAKES_INPUT and pieces is not None:
            pieces.append(delta.partial_json)
        elif kind == "signature_delta" and block.type == "thinking":
            block.signature = delta.signature
        elif kind == "citations_delta" and block.type == "text":
            block.citations = [*(block.citations or ()), delta.citation]

    def _join(self, index: int) -> Any:
        """The block with its pieces joined (once); a tool input is parsed here, the only time."""
        block = self.blocks[index]
        pieces = self._pieces.pop(index, None)
        if pieces is None:
            return block
        if block.type not in _TAKES_INPUT:
            setattr(block, _JOINED[block.type], "".join(pieces))
        elif raw := "".join(pieces):
            block.input = parse_input(raw)
        return block

    def _message_delta(self, event: Any) -> None:
        delta, usage = event.delta, event.usage
        self.stop_reason, self.stop_details = delta.stop_reason, delta.stop_details
        if delta.container is not None and self.message is not None:
            self.message.container = delta.container
        if self.message is None:
            return
        totals = self.message.usage
        totals.output_tokens = usage.output_tokens
        for name in _USAGE_FIELDS:
            if (value := getattr(usage, name, None)) is not None:
                setattr(totals, name, value)

    def result(self, attempts: int) -> TurnResult:
        """The turn (call once ``stop_reason`` is set: before that the content may be cut anywhere).
        ``ValueError``: a tool input that cannot be read."""
        assert self.stop_reason is not None
        assert self.message is not None
        for index in list(self._pieces):
            self._join(index)
        details, container = self.stop_details, self.message.container
        return TurnResult(
            content=[_block(block) for block in self.blocks],
            stop_reason=self.stop_reason,
            usage=_usage(self.message.usage),
            model=self.message.model,
            attempts=attempts,
            stop_details=StopDetails(details.category, details.explanation) if details is not None else None,
            container=container.id if container is not None else None,
        )


def parse_input(raw: str) -> Any:
    """A tool call's input JSON, parsed once (``ValueError`` when it is not JSON). Any JSON value is kept:
    one that is not an object is answered with an error result the model can act on (the registry)."""
    return json.loads(raw)


def _block(block: Any) -> AssistantBlock:
    if block.type == "text":
        citations = block.citations and tuple(c.to_dict(mode="json") for c in block.citations)
        return TextBlock(block.text, citations or None)
    if block.type == "thinking":
        return ThinkingBlock(block.thinking, block.signature)
    if block.type == "redacted_thinking":
        return RedactedThinkingBlock(block.data)
    if block.type == "tool_use":
        raw = block.input
        return ToolUseBlock(block.id, block.name, dict(raw) if isinstance(raw, dict) else raw)
    return OpaqueBlock(block.type, block.to_dict(mode="json"))


def _usage(usage: Any) -> Usage:
    details = usage.output_tokens_details
    server = usage.server_tool_use
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
        cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        thinking_tokens=details.thinking_tokens if details is not None else 0,
        web_search_requests=server.web_search_requests if server is not None else 0,
        web_fetch_requests=server.web_fetch_requests if server is not None else 0,
    )
