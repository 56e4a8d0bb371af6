"""Keeping a long session inside the model's context window.

Two measures, both keeping the prompt's cached prefix intact:
- a tool result longer than a limit is cut in the middle (its start and end are what matter: a
  file's header and the end of a log), with a note saying how much was left out;
- when a request nears the context window, the session starts a new transcript from a summary the
  model writes (a turn of its own: the conversation so far with the request for a summary appended,
  sent with the same system prompt and tools, so it reads the cache and leaves every thinking block's
  prefix untouched).

The new transcript is one user message: the task, the summary, and the newest turns written out as
text (their tool calls and results; no thinking). That is the platform's recommended "simple
compaction" for models whose thinking blocks are bound to the transcript: replaying kept turns after a
summary would change the prefix their thinking was produced after (a 400, or thinking silently
dropped), and a kept tool-use turn must carry its thinking back. The system prompt and the tool
definitions stay byte-identical, so the cached prefix still hits. The cut falls before an assistant
turn, so no tool call is separated from its result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agentls.providers.base import (
    Message,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    TurnRequest,
    text_of,
)

#: Assistant turns written out after the summary (each with the results it got).
KEEP_TURNS = 2

SUMMARY_REQUEST = (
    "The conversation is getting too long for the context window. Write a summary of everything above "
    "that you will need to finish the task: what the user asked, what you found (file paths, names, line "
    "numbers, facts about the code), every change you made so far (file and what changed), commands you "
    "ran and their outcome, and what remains to do. Be specific and complete; be brief about dead ends. "
    "Reply with the summary only, as plain text; do not call any tool."
)
SUMMARY_HEADER = "[Earlier turns of this session were summarised to fit the context window.]"
RECENT_HEADER = "[The newest turns, as they happened:]"
CONTINUE_AFTER_SUMMARY = "Continue the task from where these turns left off."
#: A tool result written out in the compacted transcript is cut to this many characters.
RECENT_RESULT_CHARS = 8_000


def truncate_middle(text: str, limit: int) -> str:
    """``text`` itself when within ``limit`` characters, else its head and tail with a note between."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 200)
    head, tail = keep * 2 // 3, keep // 3
    omitted = len(text) - head - tail
    head_text, tail_text = text[:head], text[len(text) - tail:] if tail else ""
    return (f"{head_text}\n\n[... {omitted:,} characters omitted from the middle of this output: it was "
            f"{len(text):,} characters long. Ask for a narrower range or search for what you need ...]\n\n"
            f"{tail_text}")


def request_bytes(request: TurnRequest) -> int:
    """The size of what a request sends (UTF-8 bytes of its text parts), for the token estimate."""
    size = len(request.system.encode()) + len(json.dumps(list(request.tools)).encode())
    for message in request.messages:
        size += message_bytes(message)
    return size


def message_bytes(message: Message) -> int:
    size = 0
    for block in message.content:
        if isinstance(block, TextBlock):
            size += len(block.text.encode("utf-8", "surrogatepass"))
        elif isinstance(block, ToolResultBlock):
            size += len(block.content.encode("utf-8", "surrogatepass")) + 40
        elif isinstance(block, ToolUseBlock):
            size += len(json.dumps(block.input).encode()) + len(block.name) + 40
        elif isinstance(block, ThinkingBlock):  # the signature carries the full thinking, encrypted
            size += len(block.thinking.encode("utf-8", "surrogatepass")) + len(block.signature) // 2
        elif isinstance(block, RedactedThinkingBlock):
            size += len(block.data) // 2
        elif isinstance(block, OpaqueBlock):
            size += len(json.dumps(block.data).encode())
    return size


def split_point(messages: Sequence[Message], keep_turns: int = KEEP_TURNS) -> int | None:
    """Index of the first message written out after the summary: the ``keep_turns``-th assistant message
    from the end. None when there is nothing before it to summarise beyond the first message."""
    seen = 0
    for index in range(len(messages) - 1, 0, -1):
        if messages[index].role != "assistant":
            continue
        seen += 1
        # The cut must follow a user turn, so that no tool call is separated from its result.
        if seen >= keep_turns and messages[index - 1].role == "user":
            return index if index >= 2 else None
    return None


def summary_messages(messages: Sequence[Message], cut: int) -> list[Message]:
    """The conversation up to ``cut``, with the request for a summary appended to its last user turn."""
    head = list(messages[:cut])
    last = head[-1]
    head[-1] = Message(last.role, [*last.content, TextBlock(SUMMARY_REQUEST)])
    return head


def compacted(messages: Sequence[Message], cut: int, summary: str) -> list[Message]:
    """A new transcript of one user message: the task, the summary, the turns from ``cut`` as text."""
    task = text_of(messages[0].content)
    # A second compaction replaces the first summary (the new one covers it) instead of nesting it.
    task = task.split(f"\n\n{SUMMARY_HEADER}", 1)[0]
    text = f"{task}\n\n{SUMMARY_HEADER}\n<summary>\n{summary.strip()}\n</summary>"
    if recent := written_out(messages[cut:]):
        text += f"\n\n{RECENT_HEADER}\n{recent}"
    return [Message("user", [TextBlock(f"{text}\n\n{CONTINUE_AFTER_SUMMARY}")])]


def written_out(messages: Sequence[Message]) -> str:
    """Turns as text: what the assistant said and called, and what came back (thinking left out)."""
    lines: list[str] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, TextBlock) and block.text.strip():
                lines.append(f"{message.role}: {block.text.strip()}")
            elif isinstance(block, ToolUseBlock):
                lines.append(f"assistant called {block.name} with {json.dumps(block.input, ensure_ascii=False)}")
            elif isinstance(block, ToolResultBlock):
                status = "error" if block.is_error else "result"
                lines.append(f"tool {status}:\n{truncate_middle(block.content, RECENT_RESULT_CHARS)}")
            elif isinstance(block, OpaqueBlock):
                lines.append(f"server tool {block.type}: {truncate_middle(json.dumps(block.data), 2_000)}")
    return "\n".join(lines)


def fallback_summary(messages: Sequence[Message]) -> str:
    """When the model gives no usable summary: what tools were called, mechanically."""
    lines = []
    for message in messages:
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                lines.append(f"- called {block.name} with {json.dumps(block.input)[:200]}")
    return "Tool calls made so far:\n" + "\n".join(lines) if lines else "(no tool calls yet)"
