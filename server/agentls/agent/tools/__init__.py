"""The agent's tools: Anthropic's text editor, search, list_files, run_command; a registry.

Tools work over ``agent.workspace`` (path safety) and ``agent.overlay`` (edits in memory).
"""

from agentls.agent.tools.base import BaseTool, Tool, ToolCall, ToolContext, ToolResult
from agentls.agent.tools.registry import ToolCallLike, ToolRegistry, default_registry

__all__ = [
    "BaseTool",
    "Tool",
    "ToolCall",
    "ToolCallLike",
    "ToolContext",
    "ToolRegistry",
    "ToolResult",
    "default_registry",
]
