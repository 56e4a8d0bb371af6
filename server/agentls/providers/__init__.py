"""Model providers behind one Protocol (``base.Provider``).

``base`` holds the provider-agnostic types, ``resilience`` the retry policy and circuit breaker,
``anthropic`` the Messages API client. Importing this package (or ``base``, ``resilience``) does
not import the ``anthropic`` SDK, which costs over a second: ``make_provider`` imports it when a
provider is actually built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentls.providers.base import (
    AssistantBlock,
    Block,
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

if TYPE_CHECKING:
    from agentls.config import ModelSettings


def make_provider(settings: ModelSettings) -> Provider:
    """The provider ``settings.provider`` names (only "anthropic" so far); imports its SDK now."""
    from agentls.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings)


__all__ = [
    "AssistantBlock",
    "Block",
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
    "make_provider",
]
