"""What a finished session hands back: light to import and to pickle (it travels from the agent host)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agentls.agent.server_tools import ProducedFile
from agentls.providers.base import Message, Usage

Status = Literal["completed", "failed", "cancelled", "budget", "max_turns"]


@dataclass
class SessionResult:
    status: Status
    summary: str
    turns: int
    usage: Usage
    cost_usd: float
    error: str = ""
    messages: list[Message] = field(default_factory=list)
    #: One line per call of the API's own tools (web search, web fetch, code execution), in order.
    server_tools: list[str] = field(default_factory=list)
    #: Files code execution produced in the session.
    produced: list[ProducedFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"
