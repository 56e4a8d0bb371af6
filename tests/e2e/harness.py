"""A pytest-lsp client that records what the server sent, for end-to-end tests of ``agentls serve``.

It records every ``publishDiagnostics`` with its version (pytest-lsp keeps only the latest list)
and answers ``workspace/applyEdit`` by applying the edit to its own copy of each document, as an
editor would. ``wait_until`` polls recorded state, so a notification that arrived before the
wait began is never missed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pytest_lsp.plugin import ClientServerConfig

CLIENTS = ["neovim", "visual_studio_code"]


class RecordingClient(LanguageClient):
    """Records what the server sent, and keeps its own copy of each open document, like an editor."""

    def __init__(self) -> None:
        from pygls.protocol import default_converter

        super().__init__(converter_factory=default_converter)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.documents: dict[str, tuple[int, str]] = {}
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.proposals: list[dict[str, Any]] = []
        self.resolutions: list[dict[str, Any]] = []
        #: What the user answers to edits that need confirmation (review = "confirm").
        self.confirm_annotated_edits = True
        #: Refuse the next N applyEdit requests (to test the server's retry).
        self.refuse_edits = 0
        #: window/showMessageRequest received, and the action title the user picks (None: dismissed).
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.message_answer: str | None = None
        #: Answers for the next requests, in order (then ``message_answer``).
        self.message_answers: list[str] = []
        #: Set: the user answers only once it is released (meanwhile the client's own UI may answer instead).
        self.hold_message_requests: asyncio.Event | None = None
        #: client/registerCapability requests (the server's file watcher, say).
        self.registrations: list[types.Registration] = []

    def text(self, uri: str) -> str:
        return self.documents[uri][1]

    def apply_workspace_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        """What an editor does with workspace/applyEdit: check versions, apply, tell the server."""
        self.applied_edits.append(params)
        if self.refuse_edits:
            self.refuse_edits -= 1
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="refused by the test")
        edit = params.edit
        annotations = edit.change_annotations or {}
        if any(a.needs_confirmation for a in annotations.values()) and not self.confirm_annotated_edits:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="the user declined")
        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                path = Path(str(change.uri).removeprefix("file://"))
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("")
                continue
            if not isinstance(change, types.TextDocumentEdit):
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="unsupported change")
            uri = change.text_document.uri
            version = change.text_document.version
            if uri in self.documents:
                current_version, text = self.documents[uri]
                if version is not None and version != current_version:
                    return types.ApplyWorkspaceEditResult(
                        applied=False, failure_reason=f"version {version} != {current_version}")
                new_text = apply_text_edits(text, list(change.edits))
                self.documents[uri] = (current_version + 1, new_text)
                self.text_document_did_change(types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=uri, version=current_version + 1),
                    [types.TextDocumentContentChangeWholeDocument(text=new_text)]))
            else:  # not open: the editor edits the file on disk
                path = Path(str(uri).removeprefix("file://"))
                text = path.read_text() if path.exists() else ""
                path.write_text(apply_text_edits(text, list(change.edits)))
        for uri, edits in (edit.changes or {}).items():
            version, text = self.documents[uri]
            new_text = apply_text_edits(text, list(edits))
            self.documents[uri] = (version + 1, new_text)
            self.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                [types.TextDocumentContentChangeWholeDocument(text=new_text)]))
        return types.ApplyWorkspaceEditResult(applied=True)

    def latest_diagnostics(self, uri: str) -> types.PublishDiagnosticsParams | None:
        return next((p for p in reversed(self.published) if p.uri == uri), None)

    async def wait_until(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll ``check`` until it returns something truthy; fail with a clear message on timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = check()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {check}")
            await asyncio.sleep(0.01)

    async def diagnostics_for(
        self, uri: str, version: int, timeout: float = 10.0
    ) -> list[types.Diagnostic]:
        """The diagnostics published for ``uri`` at ``version``."""
        def published() -> types.PublishDiagnosticsParams | None:
            return next((p for p in reversed(self.published) if p.uri == uri and p.version == version), None)

        params = await self.wait_until(published, timeout)
        return list(params.diagnostics)


def apply_text_edits(text: str, edits: list[Any]) -> str:
    """Apply LSP text edits (UTF-16 positions) to ``text``, last first."""
    from agentls.lsp.convert import LineIndex, from_range

    index = LineIndex(text)
    spans = sorted(((*from_range(index, e.range), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def make_client() -> RecordingClient:
    client = RecordingClient()
    features = dict(DEFAULT_CLIENT_FEATURES)

    def publish(client: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    def apply_edit(client: RecordingClient, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return client.apply_workspace_edit(params)

    def proposal(client: RecordingClient, params: Any) -> None:
        client.proposals.append(_plain(params))

    def resolved(client: RecordingClient, params: Any) -> None:
        client.resolutions.append(_plain(params))

    async def show_message_request(client: RecordingClient,
                                   params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        client.message_requests.append(params)
        if client.hold_message_requests is not None:
            await client.hold_message_requests.wait()
        answer = client.message_answers.pop(0) if client.message_answers else client.message_answer
        return types.MessageActionItem(answer) if answer else None

    def register_capability(client: RecordingClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[types.CLIENT_REGISTER_CAPABILITY] = register_capability
    features[types.WINDOW_SHOW_MESSAGE_REQUEST] = show_message_request
    features[types.WORKSPACE_APPLY_EDIT] = apply_edit
    features["agentls/proposal"] = proposal
    features["agentls/proposalResolved"] = resolved
    register_lsp_features(client, features)
    # lsprotocol reads a CodeAction that carries a command as a bare Command: keep what the wire
    # carried (plain JSON) so tests can assert on it.
    typed = client.protocol.get_result_type
    client.protocol.get_result_type = (  # type: ignore[method-assign]
        lambda method: None if method == types.TEXT_DOCUMENT_CODE_ACTION else typed(method))
    return client


def _plain(value: Any) -> Any:
    """pygls hands custom notifications' params over as namespaces; tests want plain JSON."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """The server's environment: isolated from the developer's config and any real API key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"), XDG_CACHE_HOME=str(home / "cache"))
    env.update(extra)
    return env


async def start(
    client_name: str,
    workspace: Path,
    home: Path,
    initialization_options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    process_id: int | None = None,
    message_answer: str | None = None,
) -> tuple[RecordingClient, types.InitializeResult]:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "agentls", "serve"],
        client_factory=make_client,
        server_env=server_env(home, **(env or {})),
    )
    client = await config.start()
    assert isinstance(client, RecordingClient)
    client.message_answer = message_answer  # questions may come as soon as the server is initialized
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(client_name),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
            initialization_options=initialization_options,
            process_id=process_id,
        )
    )
    return client, result


def open_document(client: LanguageClient, path: Path, language_id: str, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    if isinstance(client, RecordingClient):
        client.documents[uri] = (version, text)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language_id, version, text))
    )
    return uri


def change_document(client: LanguageClient, uri: str, version: int,
                    start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    if isinstance(client, RecordingClient) and uri in client.documents:
        from agentls.lsp.convert import LineIndex

        current = client.documents[uri][1]
        index = LineIndex(current)
        a, b = index.offset(*start), index.offset(*end)
        client.documents[uri] = (version, current[:a] + text + current[b:])
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(*start), types.Position(*end)), text=text)],
        )
    )


class RawConnection:
    """Bytes-level JSON-RPC to ``agentls serve``, for sending what no well-behaved client would."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def open(cls, home: Path) -> RawConnection:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agentls", "serve",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env=server_env(home),
        )
        return cls(process)

    async def write_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await self.process.stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        import json

        await self.write_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    async def read(self, timeout: float = 10.0) -> dict[str, Any]:
        import json

        assert self.process.stdout is not None
        length = 0
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not line:
                raise EOFError("the server closed its stdout")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await asyncio.wait_for(self.process.stdout.readexactly(length), timeout)
        message: dict[str, Any] = json.loads(body)
        return message

    async def response(self, request_id: int, timeout: float = 10.0) -> dict[str, Any]:
        """Read messages until the response to ``request_id`` (skipping notifications)."""
        while True:
            message = await self.read(timeout)
            if message.get("id") == request_id and "method" not in message:
                return message

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
