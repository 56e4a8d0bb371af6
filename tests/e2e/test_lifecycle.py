"""The server starts, advertises its capabilities, and survives bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import Session
from tests.e2e.harness import RawConnection, start

COMMANDS = {
    "agentls.edit", "agentls.task", "agentls.accept", "agentls.reject", "agentls.cancel",
    "agentls.checkpoints.list", "agentls.checkpoints.diff", "agentls.checkpoints.restore", "agentls.usage",
}


async def test_initialize_advertises_capabilities(session: Session) -> None:
    caps = session.result.capabilities
    assert session.result.server_info is not None
    assert session.result.server_info.name == "agentls"

    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.open_close is True
    assert sync.change == types.TextDocumentSyncKind.Incremental

    actions = caps.code_action_provider
    assert isinstance(actions, types.CodeActionOptions)
    assert set(actions.code_action_kinds or []) == {
        types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite}

    commands = caps.execute_command_provider
    assert commands is not None
    assert set(commands.commands) >= COMMANDS
    assert commands.work_done_progress is True


async def test_position_encoding_is_negotiated(session: Session) -> None:
    offered = (session.client.capabilities or types.ClientCapabilities()).general
    chosen = session.result.capabilities.position_encoding
    if offered is None or not offered.position_encodings:
        assert chosen in (None, types.PositionEncodingKind.Utf16)
    else:
        assert chosen == offered.position_encodings[0]


async def test_command_with_malformed_arguments_is_invalid_params(session: Session) -> None:
    with pytest.raises(JsonRpcException, match="one JSON object argument") as info:
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="agentls.usage", arguments=["a", "b"]))
    assert info.value.code == -32602


async def test_a_change_to_a_document_never_opened_is_ignored_quietly(session: Session) -> None:
    """A client bug (didChange before didOpen) is the log's business: no "internal error: KeyError" for the user."""
    from tests.e2e.harness import change_document

    uri = (session.workspace / "never-opened.py").as_uri()
    change_document(session.client, uri, 2, (0, 0), (0, 0), "x = 1\n")
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="agentls.usage", arguments=[{}]))  # still answering
    assert result is not None
    await asyncio.sleep(0.3)
    assert [m.message for m in session.client.messages if m.type == types.MessageType.Error] == []


async def test_unknown_command_is_an_error(session: Session) -> None:
    with pytest.raises(JsonRpcException, match="not defined"):
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="agentls.nope", arguments=[]))


async def test_malformed_requests_get_errors_and_the_server_stays_up(tmp_path: Path) -> None:
    conn = await RawConnection.open(tmp_path / "home")
    try:
        await conn.send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": None}})
        assert "capabilities" in (await conn.response(1))["result"]
        await conn.send({"method": "initialized", "params": {}})

        # Params of the wrong shape.
        await conn.send({"id": 2, "method": "textDocument/codeAction",
                         "params": {"textDocument": 42, "range": "everything"}})
        error = (await conn.response(2))["error"]
        assert error["code"] == -32602
        assert "invalid params for textDocument/codeAction" in error["message"]
        # A method nobody implements.
        await conn.send({"id": 3, "method": "agentls/noSuchMethod", "params": {}})
        assert (await conn.response(3))["error"]["code"] == -32601
        # Bytes that are not JSON at all.
        await conn.write_bytes(b"{this is not json")
        # A command whose argument is not an object.
        await conn.send({"id": 4, "method": "workspace/executeCommand",
                         "params": {"command": "agentls.usage", "arguments": [1, 2]}})
        assert (await conn.response(4))["error"]["code"] == -32602

        # Still up, and still answering correctly.
        await conn.send({"id": 5, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": "file:///nowhere.py"},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": []}}})
        assert (await conn.response(5))["result"] == []
        await conn.send({"id": 6, "method": "shutdown"})
        assert (await conn.response(6)).get("error") is None
        await conn.send({"method": "exit"})
        assert await asyncio.wait_for(conn.process.wait(), 10) == 0
    finally:
        await conn.close()


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_bad_settings_warn_once_and_fall_back(client_name: str, tmp_path, workspace) -> None:
    (workspace / "agentls.toml").write_text('[diagnostics]\ndebounce_ms = "soon"\n')
    client, _ = await start(client_name, workspace, tmp_path / "home",
                            initialization_options={"settings": {"review": "sometimes"}})
    try:
        await client.wait_until(lambda: len(client.messages) >= 2)
        texts = [m.message for m in client.messages]
        assert any("debounce_ms" in t and "workspace config" in t for t in texts), texts
        assert any("review" in t and "editor settings" in t for t in texts), texts
        assert all(m.type == types.MessageType.Warning for m in client.messages)

        # The same bad settings again: not shown a second time. A new bad one: shown.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"agentls": {"review": "sometimes"}}))
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"agentls": {"logLevel": "loud"}}))
        await client.wait_until(lambda: any("log_level" in m.message for m in client.messages))
        await asyncio.sleep(0.1)
        texts = [m.message for m in client.messages]
        assert sum("review" in t for t in texts) == 1, texts
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_the_server_stops_when_the_editor_process_dies_even_with_its_stdin_open(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    editor = await asyncio.create_subprocess_exec("sleep", "300")
    conn = await RawConnection.open(tmp_path / "home")
    try:
        await conn.send({"id": 1, "method": "initialize", "params": {
            "capabilities": {}, "processId": editor.pid, "rootUri": workspace.as_uri()}})
        await conn.response(1)
        await conn.send({"method": "initialized", "params": {}})
        await conn.send({"id": 2, "method": "workspace/executeCommand",
                         "params": {"command": "agentls.usage", "arguments": [{}]}})
        assert "sessions" in (await conn.response(2))["result"]
        editor.kill()
        await editor.wait()
        # Our end of its stdin is still open: only the editor's end is gone.
        assert await asyncio.wait_for(conn.process.wait(), 15) == 0
    finally:
        if editor.returncode is None:
            editor.kill()
        await conn.close()


async def test_an_editor_process_that_is_not_visible_from_here_is_not_watched(tmp_path: Path) -> None:
    conn = await RawConnection.open(tmp_path / "home")
    try:
        # A pid from another namespace (an editor outside the container) looks like a dead process here.
        await conn.send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": 4_194_000}})
        await conn.response(1)
        await conn.send({"method": "initialized", "params": {}})
        await asyncio.sleep(0.5)
        await conn.send({"id": 2, "method": "shutdown"})
        assert (await conn.response(2)).get("error") is None
        assert conn.process.returncode is None
    finally:
        await conn.close()
