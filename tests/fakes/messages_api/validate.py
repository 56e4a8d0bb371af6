"""Request checks every model enforces with a 400, so client bugs surface in tests.

Required fields, message roles, non-empty content (no empty message, no empty text block), an
assistant message of nothing but thinking, tool_use/tool_result pairing between consecutive
messages, and at most 4 `cache_control` breakpoints. The rules that depend on the model are in
`rules`, the thinking blocks' in `binding`.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

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
    return (_check_tools(body.get("tools")) or _check_content(messages) or _check_tool_pairing(messages)
            or _check_cache_control(body))


TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _check_tools(tools: object) -> str | None:
    """Custom tools: a name the API accepts, unique, and an input schema valid as JSON Schema 2020-12
    (one bad tool fails the whole request: an MCP server's tools must be repaired or left out)."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        return "tools: Input should be a valid list"
    seen: set[str] = set()
    for n, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") not in (None, "custom"):
            continue  # server tools and Anthropic-defined tools have their own shapes
        name = tool.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            return f"tools.{n}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        if name in seen:
            return "tools: Tool names must be unique."
        seen.add(name)
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return f"tools.{n}.custom.input_schema.type: Input should be 'object'"
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError:
            return (f"tools.{n}.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft "
                    "2020-12 (https://json-schema.org/draft/2020-12). Learn more about tool use at "
                    "https://docs.claude.com/en/docs/tool-use.")
    return None


def _check_content(messages: list[dict[str, Any]]) -> str | None:
    for i, message in enumerate(messages):
        content = message["content"]
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if not content and not final_assistant:
            return (f"messages.{i}: all messages must have non-empty content except for the optional final "
                    "assistant message")
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") == "text" and not block.get("text"):
                return "messages: text content blocks must be non-empty"
            if isinstance(block, dict) and block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
                return f"messages.{i}.content.{j}.tool_use.input: Input should be a valid dictionary"
            if isinstance(block, dict) and block.get("type") == "tool_result":
                problem = _check_result_content(block.get("content"), f"messages.{i}.content.{j}.content")
                if problem:
                    return problem
        kinds = {b.get("type") for b in content if isinstance(b, dict)}
        if message["role"] == "assistant" and kinds and kinds <= {"thinking", "redacted_thinking"}:
            return f"messages.{i}: The final block in an assistant message cannot be `thinking`."
    return None


def _check_result_content(content: object, where: str) -> str | None:
    """A tool result holds a string or text, image, document and search-result blocks."""
    if content is None or isinstance(content, str):
        return None
    if not isinstance(content, list):
        return f"{where}: Input should be a valid string or list"
    for k, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text":
            if not item.get("text"):
                return "messages: text content blocks must be non-empty"
        elif kind == "image":
            source = item.get("source")
            if not isinstance(source, dict) or source.get("type") not in ("base64", "url", "file"):
                return f"{where}.{k}.image.source: Field required"
            if source.get("type") == "base64" and source.get("media_type") not in IMAGE_TYPES:
                return (f"{where}.{k}.image.source.base64.media_type: Input should be 'image/jpeg', "
                        "'image/png', 'image/gif' or 'image/webp'")
        elif kind not in ("document", "search_result", "tool_reference"):
            return f"{where}.{k}: Input tag '{kind}' found using 'type' does not match any of the expected tags"
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
