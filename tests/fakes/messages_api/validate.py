"""Request checks every model enforces with a 400, so client bugs surface in tests.

Required fields, message roles, non-empty content (no empty message, no empty text block), an
assistant message of nothing but thinking, tool_use/tool_result pairing between consecutive
messages, and at most 4 `cache_control` breakpoints. The rules that depend on the model are in
`rules`, the thinking blocks' in `binding`.
"""

from __future__ import annotations

from typing import Any

MAX_CACHE_BREAKPOINTS = 4


def validate_request(path: str, body: object) -> str | None:
    """The invalid_request_error message for `body`, or None if it is acceptable."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    for name in (
        ("model", "messages") if path.endswith("/count_tokens") else ("model", "max_tokens", "messages")
    ):
        if name not in body:
            return f"{name}: Field required"
    if not isinstance(body["model"], str):
        return "model: Input should be a valid string"
    if "max_tokens" in body and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
        return "max_tokens: Input should be an integer greater than or equal to 1"
    messages = body["messages"]
    if not isinstance(messages, list):
        return "messages: Input should be a valid list"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if not isinstance(message.get("content"), str | list):
            return f"messages.{i}.content: Field required"
    return _check_content(messages) or _check_tool_pairing(messages) or _check_cache_control(body)


def _check_content(messages: list[dict[str, Any]]) -> str | None:
    for i, message in enumerate(messages):
        content = message["content"]
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if not content and not final_assistant:
            return (f"messages.{i}: all messages must have non-empty content except for the optional final "
                    "assistant message")
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text" and not block.get("text"):
                return "messages: text content blocks must be non-empty"
        kinds = {b.get("type") for b in content if isinstance(b, dict)}
        if message["role"] == "assistant" and kinds and kinds <= {"thinking", "redacted_thinking"}:
            return f"messages.{i}: The final block in an assistant message cannot be `thinking`."
    return None


def _blocks(message: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message["content"]
    if not isinstance(content, list):
        return []
    return [(j, b) for j, b in enumerate(content) if isinstance(b, dict) and b.get("type") == kind]


def _check_tool_pairing(messages: list[dict[str, Any]]) -> str | None:
    for i, message in enumerate(messages):
        previous_uses: set[str] = set()
        if i > 0 and messages[i - 1]["role"] == "assistant":
            previous_uses = {str(b.get("id")) for _, b in _blocks(messages[i - 1], "tool_use")}
        for j, result in _blocks(message, "tool_result"):
            if message["role"] != "user" or str(result.get("tool_use_id")) not in previous_uses:
                return (
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{result.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message."
                )
        if message["role"] == "assistant" and i + 1 < len(messages):
            uses = [str(b.get("id")) for _, b in _blocks(message, "tool_use")]
            answered = {str(b.get("tool_use_id")) for _, b in _blocks(messages[i + 1], "tool_result")}
            missing = [u for u in uses if u not in answered]
            if missing:
                return (
                    f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
    return None


def _count_cache_control(value: object) -> int:
    if isinstance(value, list):
        return sum(_count_cache_control(item) for item in value)
    if isinstance(value, dict):
        own = 1 if value.get("cache_control") is not None else 0
        content = value.get("content")
        return own + (_count_cache_control(content) if isinstance(content, list) else 0)
    return 0


def _check_cache_control(body: dict[str, Any]) -> str | None:
    found = sum(_count_cache_control(body.get(key)) for key in ("system", "tools", "messages"))
    if found > MAX_CACHE_BREAKPOINTS:
        return (
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {found}."
        )
    return None
