"""``workspace/executeCommand``: every ``agentls.*`` command, registered up front.

Each command takes one JSON object argument. Every listed command has a handler (``register`` refuses
a table that misses one). Expected failures (``AgentlsError``) become errors with their one-line
message; anything else is logged with its traceback and reported in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from agentls.errors import AgentlsError, InvalidRequest
from agentls.lsp.server import AgentLanguageServer

log = logging.getLogger(__name__)

#: LSP's RequestFailed: the request was well-formed but could not be carried out.
REQUEST_FAILED = -32803

COMMANDS = (
    "agentls.edit",
    "agentls.task",
    "agentls.accept",
    "agentls.reject",
    "agentls.proposals",
    "agentls.answer",
    "agentls.cancel",
    "agentls.checkpoints.list",
    "agentls.checkpoints.diff",
    "agentls.checkpoints.restore",
    "agentls.usage",
    "agentls.plan",
    "agentls.plan.update",
    "agentls.plan.execute",
    "agentls.plan.rollback",
    "agentls.plan.list",
    "agentls.plan.status",
    "agentls.plan.cancel",
    "agentls.plan.decide",
    "agentls.dashboard",
)

Handler = Callable[[AgentLanguageServer, dict[str, Any]], Awaitable[Any]]


def single_object(name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The one JSON object argument every ``agentls.*`` command takes."""
    if len(args) == 0:
        return {}
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    raise InvalidRequest(f"{name} takes one JSON object argument, got {len(args)} argument(s)")


def _wrap(server: AgentLanguageServer, name: str, handler: Handler) -> Callable[..., Awaitable[Any]]:
    # No functools.wraps: pygls inspects the signature and must see (*args), not the handler's.
    async def command(*args: Any) -> Any:
        try:
            return await handler(server, single_object(name, args))
        except InvalidRequest as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        except AgentlsError as exc:
            log.info("%s failed: %s", name, exc)
            raise JsonRpcException(str(exc), REQUEST_FAILED) from exc
        except JsonRpcException:
            raise
        except Exception as exc:
            log.exception("%s failed unexpectedly", name)
            server.notify_user(f"{name} failed: {exc} (details in the log)")
            raise JsonRpcException(f"{name} failed: {exc}", REQUEST_FAILED) from exc

    command.__name__ = command.__qualname__ = name.replace(".", "_")
    return command


def register(server: AgentLanguageServer, handlers: Mapping[str, Handler]) -> None:
    """Register the handler of each of ``COMMANDS``; a table that differs from the list is a programming error."""
    missing, unlisted = set(COMMANDS) - handlers.keys(), handlers.keys() - set(COMMANDS)
    if missing or unlisted:
        raise ValueError(f"command handlers: missing {sorted(missing)}, not listed in COMMANDS {sorted(unlisted)}")
    for name in COMMANDS:
        server.command(name)(_wrap(server, name, handlers[name]))
