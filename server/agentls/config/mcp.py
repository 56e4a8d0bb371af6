"""The ``[mcp]`` settings: the user's MCP servers, which tools run without asking, and the timeouts.

Servers declared here come from the user's own config, the environment or the editor, and are trusted.
A workspace's ``agentls.toml`` may declare servers too, as may its ``.mcp.json`` and ``.vscode/mcp.json``:
those are read by ``agentls.mcp.sources`` and start only once the user trusts each exact definition.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class _Section(BaseModel):
    """As ``settings._Section`` (which imports this module): snake_case or camelCase, no unknown keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              validate_default=True)


class McpServerSettings(_Section):
    """One MCP server: a command (stdio) or a URL (streamable HTTP)."""

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    #: Added to the server's environment (it inherits only HOME, PATH, USER, SHELL, TERM, LOGNAME);
    #: ``${VAR}`` is taken from agentls' environment, so secrets stay out of files.
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if (self.command is None) == (self.url is None):
            raise ValueError("an MCP server needs either `command` or `url`")
        return self


class McpSettings(_Section):
    servers: dict[str, McpServerSettings] = Field(default_factory=dict)
    #: Tools that run without asking, by fnmatch pattern over ``mcp__<server>__<tool>`` (``mcp__git__*``;
    #: ``mcp__git`` alone means every tool of ``git``). Read-only tools never ask.
    allow: list[str] = Field(default_factory=list)
    #: Starting a server and listing its tools; past it the session goes on without them.
    startup_timeout_s: float = Field(30.0, gt=0, le=600)
    #: One tool call; past it the model gets an error result.
    call_timeout_s: float = Field(120.0, gt=0, le=3600)
