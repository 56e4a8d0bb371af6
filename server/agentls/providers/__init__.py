"""Model providers behind one Protocol (``base.Provider``).

``base`` holds the provider-agnostic types, ``resilience`` the retry policy and circuit breaker,
``anthropic`` the Messages API client. Importing this package (or ``base``, ``resilience``) does
not import the ``anthropic`` SDK, which costs over a second: the runtime imports
``agentls.providers.anthropic`` when a provider is actually built.
"""

from __future__ import annotations

from agentls.providers.base import (
    AssistantBlock,
    Block,
    CircuitChanged,
    Message,
    ModelLimits,
    OpaqueBlock,
    Provider,
    ProviderFailure,
    RedactedThinkingBlock,
    Retrying,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolResultBlock,
    ToolUseBlock,
    ToolUseStarted,
    TurnRequest,
    TurnResult,
    Usage,
)

__all__ = [
    "AssistantBlock",
    "Block",
    "CircuitChanged",
    "Message",
    "ModelLimits",
    "OpaqueBlock",
    "Provider",
    "ProviderFailure",
    "RedactedThinkingBlock",
    "Retrying",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolResultBlock",
    "ToolUseBlock",
    "ToolUseStarted",
    "TurnRequest",
    "TurnResult",
    "Usage",
]
