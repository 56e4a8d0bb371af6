"""Where MCP servers are declared, and what each declaration resolves to.

Lowest first: the user's own settings (``[mcp.servers.NAME]`` in the user config, the environment or the
editor: trusted), then the workspace: ``agentls.toml``'s ``[mcp.servers.NAME]``, ``.mcp.json``
(``mcpServers``, as Claude Code and Cursor write it) and ``.vscode/mcp.json`` (``servers``). The same name
in a later layer replaces the earlier one. A workspace declaration runs nothing until the user trusts its
exact definition (``agentls.mcp.trust``).

``${VAR}``, ``${VAR:-default}`` and ``${env:VAR}`` are expanded from agentls' environment in the command,
its arguments, env, cwd, URL and headers, as are ``${workspaceFolder}`` and ``${userHome}``; an unset
variable without a default leaves the server unusable, with one line saying which. VS Code's
``${input:...}`` prompts are not supported (the server is skipped with a line saying so).
No I/O but reading the three workspace files; call ``discover`` from a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from agentls.config.mcp import McpServerSettings

Transport = Literal["stdio", "http", "sse"]
USER = "user settings"
#: Workspace files, lowest first, and the key that holds their servers.
WORKSPACE_FILES = (("agentls.toml", "mcp.servers"), (".mcp.json", "mcpServers"), (".vscode/mcp.json", "servers"))
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEYS = frozenset({"command", "args", "env", "cwd", "url", "headers", "enabled"})


@dataclass(frozen=True)
class ServerSpec:
    """One declared server, as written (variables not yet expanded)."""

    name: str
    #: ``USER`` or the workspace file that declared it (``.mcp.json``).
    origin: str
    transport: Transport = "stdio"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    enabled: bool = True
    #: Why it cannot be used as declared (bad entry); None when fine.
    problem: str | None = None

    @property
    def from_workspace(self) -> bool:
        return self.origin != USER

    def digest(self) -> str:
        """The exact definition, as trusted: any change to it asks again."""
        definition = {"transport": self.transport, "command": self.command, "args": list(self.args),
                      "env": dict(self.env), "cwd": self.cwd, "url": self.url, "headers": dict(self.headers)}
        return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()

    def describe(self) -> str:
        """What it runs, for a question or a listing (never the env or header values)."""
        if self.url is not None:
            return self.url
        return " ".join([self.command or "", *self.args]).strip()


@dataclass(frozen=True)
class Resolved:
    """A server ready to start: variables expanded."""

    spec: ServerSpec
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Unresolvable(ValueError):
    """A variable the declaration needs is not set (or is a VS Code input)."""


def _spec(name: str, origin: str, raw: object) -> ServerSpec:
    if not isinstance(raw, Mapping):
        return ServerSpec(name, origin, problem="its entry is not a table/object")
    # Other tools' keys (Cline's autoApprove, VS Code's envFile, ...) are not ours to judge: left out.
    values = {key: value for key, value in raw.items() if key in _KEYS}
    if raw.get("disabled") is True:
        values["enabled"] = False
    declared = raw.get("type")
    try:
        settings = McpServerSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        return ServerSpec(name, origin, problem=f"{where + ': ' if where else ''}{first['msg']}")
    transport: Transport = "stdio" if settings.command is not None else "http"
    if declared == "sse" and settings.url is not None:
        transport = "sse"
    elif declared not in (None, "stdio", "http", "streamable-http", "streamableHttp", "sse"):
        return ServerSpec(name, origin, problem=f"unknown type {declared!r}")
    return ServerSpec(name, origin, transport, settings.command, tuple(settings.args),
                      tuple(sorted(settings.env.items())), settings.cwd, settings.url,
                      tuple(sorted(settings.headers.items())), settings.enabled)


def from_settings(servers: Mapping[str, McpServerSettings]) -> list[ServerSpec]:
    """The user's own servers (already validated settings)."""
    return [_spec(name, USER, server.model_dump(exclude_none=True)) for name, server in servers.items()]


def _workspace_entries(root: Path, relative: str, key: str) -> tuple[dict[str, Any], str | None]:
    path = root / relative
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"{relative} could not be read: {exc.strerror or exc}"
    try:
        parsed: Any = tomllib.loads(data.decode()) if relative.endswith(".toml") else json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        return {}, f"{relative} is not valid {'TOML' if relative.endswith('.toml') else 'JSON'}: {exc}"
    for part in key.split("."):
        parsed = parsed.get(part) if isinstance(parsed, dict) else None
    if parsed is None:
        return {}, None
    if not isinstance(parsed, dict):
        return {}, f"{relative}: `{key}` is not a table/object"
    return parsed, None


def discover(root: Path | None, user: Mapping[str, McpServerSettings]) -> tuple[list[ServerSpec], list[str]]:
    """Every server, the later layer winning on a name, and the problems found reading the files."""
    found: dict[str, ServerSpec] = {spec.name: spec for spec in from_settings(user)}
    problems: list[str] = []
    for relative, key in WORKSPACE_FILES if root is not None else ():
        assert root is not None
        entries, problem = _workspace_entries(root, relative, key)
        if problem:
            problems.append(problem)
        for name, raw in entries.items():
            found[str(name)] = _spec(str(name), relative, raw)
    return list(found.values()), problems


def _expand(text: str, environ: Mapping[str, str], root: Path | None) -> str:
    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "workspaceFolder" and root is not None:
            return str(root)
        if body == "userHome":
            return str(Path.home())
        if body.startswith("input:"):
            raise Unresolvable(f"uses the VS Code input {body[6:]!r}; declare it in agentls' config instead")
        name, _, default = body.partition(":-")
        name = name.removeprefix("env:")
        if name in environ:
            return environ[name]
        if ":-" in body:
            return default
        raise Unresolvable(f"needs the environment variable {name}, which is not set")

    return _VARIABLE.sub(one, text)


def resolve(spec: ServerSpec, root: Path | None, environ: Mapping[str, str] | None = None) -> Resolved:
    """``spec`` with its variables expanded (raises ``Unresolvable``); a relative cwd is the workspace's."""
    environ = os.environ if environ is None else environ

    def x(text: str) -> str:
        return _expand(text, environ, root)

    cwd = x(spec.cwd) if spec.cwd is not None else None
    if cwd is not None and root is not None and not os.path.isabs(cwd):
        cwd = str(root / cwd)
    elif cwd is None and root is not None and spec.command is not None:
        cwd = str(root)
    return Resolved(spec, x(spec.command) if spec.command is not None else None, tuple(x(a) for a in spec.args),
                    {k: x(v) for k, v in spec.env}, cwd, x(spec.url) if spec.url is not None else None,
                    {k: x(v) for k, v in spec.headers})


def has_workspace_servers(root: Path) -> bool:
    """Whether a workspace file may declare servers (cheap: a few ``stat`` calls, no parsing)."""
    return any((root / relative).is_file() for relative, _ in WORKSPACE_FILES)
