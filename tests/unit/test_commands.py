"""The command registry: every listed command has a handler; failures become JSON-RPC errors."""

from __future__ import annotations

from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from agentls.errors import AgentlsError, InvalidRequest
from agentls.lsp.app import create_server
from agentls.lsp.handlers.commands import COMMANDS, REQUEST_FAILED, register
from agentls.lsp.server import AgentLanguageServer


def test_every_listed_command_has_a_real_handler() -> None:
    server = create_server()
    registered = server.protocol.fm.commands
    assert set(COMMANDS) <= set(registered)


def test_a_handler_table_that_misses_a_listed_command_is_refused() -> None:
    with pytest.raises(ValueError, match=r"missing \['agentls\.task'\]"):
        register(AgentLanguageServer(), {name: _unused for name in COMMANDS if name != "agentls.task"})


def test_a_handler_for_an_unlisted_command_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not listed in COMMANDS \['agentls\.nope'\]"):
        register(AgentLanguageServer(), {**dict.fromkeys(COMMANDS, _unused), "agentls.nope": _unused})


async def test_arguments_must_be_one_object() -> None:
    server = create_server()
    with pytest.raises(JsonRpcException, match="one JSON object argument") as info:
        await server.protocol.fm.commands["agentls.usage"]("a", "b")
    assert info.value.code == -32602


async def test_an_expected_failure_is_request_failed() -> None:
    async def failing(ls: AgentLanguageServer, params: dict[str, Any]) -> Any:
        raise InvalidRequest("bad") if params.get("invalid") else AgentlsError("cannot do that now")

    server = AgentLanguageServer()
    register(server, dict.fromkeys(COMMANDS, failing))
    with pytest.raises(JsonRpcException, match="cannot do that now") as info:
        await server.protocol.fm.commands["agentls.task"]({})
    assert info.value.code == REQUEST_FAILED
    with pytest.raises(JsonRpcException, match="bad") as info:
        await server.protocol.fm.commands["agentls.task"]({"invalid": True})
    assert info.value.code == -32602


async def _unused(ls: AgentLanguageServer, params: dict[str, Any]) -> Any:
    raise AssertionError("not called")
