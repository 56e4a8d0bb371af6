"""Our conversation types -> the Messages API's request body, under the rules of the current models.

Pure (no SDK import): ``anthropic.py`` hands ``request_body`` to ``messages.create(stream=True)``.

- Every assistant block goes back exactly as received, in its place: thinking (text and signature),
  redacted thinking, text with its citations, tool calls, server tool calls and results. Thinking
  blocks are bound to the model and to everything before them; a changed block is a 400.
- No sampling parameters, no forced tool choice, no prefill (only a paused turn may end the
  messages), no empty message and no empty text block.
- ``thinking`` and ``output_config.effort`` are sent as the model accepts them (``shape_thinking``);
  a setting the model cannot honour is refused here with a message naming it, before anything is sent.

Prompt caching: tools and system are rendered identically on every turn, and ``cache_control``
breakpoints go on the last tool, on the system block, on the last cacheable block of the newest
message and on that of the message three back (the previous turn's newest message in a
user/assistant/user loop). Each request is then the previous request plus the new turn, its prefix
is read from the cache, and only the new turn is written; the explicit breakpoint where the previous
request ended makes that read independent of the API's 20-block look-back. That is 4 breakpoints at
most, the API's limit. Thinking blocks never carry one (a 400): the last other block does.
"""

from __future__ import annotations

import copy
from typing import Any

from agentls.providers.base import (
    Block,
    OpaqueBlock,
    ProviderFailure,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    TurnRequest,
)
from agentls.providers.models import EFFORT_LEVELS, ModelSpec

EPHEMERAL: dict[str, str] = {"type": "ephemeral"}


def wire_block(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        text: dict[str, Any] = {"type": "text", "text": block.text}
        if block.citations:
            text["citations"] = [copy.deepcopy(dict(c)) for c in block.citations]
        return text
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if isinstance(block, RedactedThinkingBlock):
        return {"type": "redacted_thinking", "data": block.data}
    if isinstance(block, ToolUseBlock):
        # The API takes only an object back: a call whose input was another JSON type (answered with an
        # error result saying so) goes back with no parameters.
        params = block.input if isinstance(block.input, dict) else {}
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": params}
    if isinstance(block, OpaqueBlock):
        return copy.deepcopy(dict(block.data))
    content: str | list[dict[str, Any]] = block.content
    if block.images:
        content = [*([{"type": "text", "text": block.content}] if block.content else []),
                   *({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
                     for media_type, data in block.images)]
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.tool_use_id, "content": content}
    if block.is_error:
        result["is_error"] = True
    return result


def _mark_last_cacheable(blocks: list[dict[str, Any]]) -> None:
    for n in range(len(blocks) - 1, -1, -1):
        if blocks[n]["type"] not in ("thinking", "redacted_thinking"):
            blocks[n] = {**blocks[n], "cache_control": dict(EPHEMERAL)}
            return


def wire_messages(request: TurnRequest, *, cache: bool) -> list[dict[str, Any]]:
    """Messages as the API takes them; empty text blocks (which it rejects) are left out, and a
    message left with nothing to send is refused rather than sent."""
    messages: list[dict[str, Any]] = []
    for n, message in enumerate(request.messages):
        content = [wire_block(b) for b in message.content if not (isinstance(b, TextBlock) and not b.text)]
        if not content:
            raise ProviderFailure(f"agentls tried to send an empty {message.role} message (#{n}); this is a bug",
                                  kind="bad_request", retryable=False, attempts=0)
        messages.append({"role": message.role, "content": content})
    if cache:
        # the newest message, and where the previous request ended (see the module docstring)
        for index in sorted({len(messages) - 1, len(messages) - 3}):
            if index >= 0:
                _mark_last_cacheable(messages[index]["content"])
    return messages


def wire_tools(request: TurnRequest, *, cache: bool) -> list[dict[str, Any]]:
    """Tool definitions as given (deep copies: the caller's dicts are never touched)."""
    tools = [copy.deepcopy(dict(tool)) for tool in request.tools]
    if cache and tools:
        tools[-1]["cache_control"] = dict(EPHEMERAL)
    return tools


def wire_system(request: TurnRequest, *, cache: bool) -> list[dict[str, Any]]:
    """The system prompt as a list of one text block (the form that takes ``cache_control``)."""
    if not request.system:
        return []
    block: dict[str, Any] = {"type": "text", "text": request.system}
    if cache:
        block["cache_control"] = dict(EPHEMERAL)
    return [block]


def _refuse(message: str) -> ProviderFailure:
    return ProviderFailure(message, kind="settings", retryable=False, attempts=0)


def shape_thinking(request: TurnRequest, spec: ModelSpec) -> dict[str, Any] | None:
    """The ``thinking`` field for ``request.thinking`` on this model (None: leave it out).

    ``adaptive`` asks for summarized (or omitted) text where the model has adaptive thinking, and is
    left out on models that have only budgeted thinking (they do not think unless asked).
    ``between_tools`` and ``disabled`` are sent where the model accepts them, left out where the model
    does not think by default anyway, and refused where it always thinks."""
    types = spec.thinking_types
    if request.thinking == "adaptive":
        return {"type": "adaptive", "display": request.thinking_display} if "adaptive" in types else None
    if request.thinking in types:
        off = spec.off_up_to
        if request.effort is not None and EFFORT_LEVELS.index(request.effort) > EFFORT_LEVELS.index(off):
            raise _refuse(f"model.thinking = '{request.thinking}' works up to model.effort = '{off}' on "
                          f"{request.model}, not '{request.effort}'; lower model.effort or use 'adaptive'")
        return {"type": request.thinking}
    if not spec.thinks_by_default:
        return None
    if spec.always_thinks:
        raise _refuse(f"model.thinking = '{request.thinking}' is not supported by {request.model}, which always "
                      "thinks; use 'adaptive' (a lower model.effort makes it think less)")
    accepted = " or ".join(f"'{t}'" for t in ("adaptive", "between_tools", "disabled") if t in types)
    raise _refuse(f"model.thinking = '{request.thinking}' is not supported by {request.model}; use {accepted}")


def check_limits(request: TurnRequest, spec: ModelSpec) -> None:
    """Refuse, naming the setting, what the model would reject with a 400."""
    if request.max_tokens > spec.max_output:
        raise _refuse(f"model.max_tokens = {request.max_tokens:,} is more than {request.model} can write in one "
                      f"turn ({spec.max_output:,}, thinking included); lower model.max_tokens")
    if request.effort is not None and spec.known and request.effort not in spec.effort:
        levels = ", ".join(spec.effort) if spec.effort else "none: it has no effort setting"
        raise _refuse(f"model.effort = '{request.effort}' is not supported by {request.model} ({levels})")


def request_body(request: TurnRequest, spec: ModelSpec) -> dict[str, Any]:
    """The keyword arguments of ``messages.create`` for ``request``: model, max_tokens, thinking,
    output_config, system, tools, messages, container, each key always in this order."""
    check_limits(request, spec)
    body: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens}
    if (thinking := shape_thinking(request, spec)) is not None:
        body["thinking"] = thinking
    if request.effort is not None and (spec.effort or not spec.known):
        body["output_config"] = {"effort": request.effort}
    if system := wire_system(request, cache=request.cache):
        body["system"] = system
    if tools := wire_tools(request, cache=request.cache):
        body["tools"] = tools
    body["messages"] = wire_messages(request, cache=request.cache)
    if request.container:
        body["container"] = request.container
    return body


def count_tokens_body(request: TurnRequest, spec: ModelSpec) -> dict[str, Any]:
    """The keyword arguments of ``messages.count_tokens`` (no breakpoints: they count nothing)."""
    body: dict[str, Any] = {"model": request.model}
    if (thinking := shape_thinking(request, spec)) is not None:
        body["thinking"] = thinking
    if system := wire_system(request, cache=False):
        body["system"] = system
    if tools := wire_tools(request, cache=False):
        body["tools"] = tools
    body["messages"] = wire_messages(request, cache=False)
    return body
