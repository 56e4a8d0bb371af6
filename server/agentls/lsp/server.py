"""The language server object: pygls ``LanguageServer`` plus the state our handlers share.

Handlers live in ``handlers/`` (one module per feature) and register themselves here. Importing
this module must stay cheap: ``initialize`` is answered before settings (pydantic), grammars
(tree-sitter) or the model client (anthropic) are loaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from agentls import __version__

if TYPE_CHECKING:
    from agentls.config import LoadedSettings, Settings
    from agentls.lsp.agent import AgentRunner
    from agentls.lsp.handlers.diagnostics import DiagnosticsPublisher
    from agentls.lsp.handlers.documents import OpenDocument
    from agentls.lsp.handlers.review import ReviewService
    from agentls.runtime import Runtime
    from agentls.runtime.stalls import StallWatch

log = logging.getLogger(__name__)


@dataclass
class ServerState:
    """What the handlers share. Filled in by the lifecycle handlers."""

    root: Path | None = None
    inline_proposals: bool = False
    session_status: bool = False
    editor_settings: dict[str, Any] = field(default_factory=dict)
    loaded: LoadedSettings | None = None
    documents: dict[str, OpenDocument] = field(default_factory=dict)
    diagnostics: DiagnosticsPublisher | None = None
    shown_warnings: set[str] = field(default_factory=set)
    #: Workspace configs (path and digest) the user was asked to trust.
    trust_asked: set[str] = field(default_factory=set)

    @property
    def settings(self) -> Settings:
        if self.loaded is None:
            from agentls.config import load_settings

            self.loaded = load_settings(self.root, self.editor_settings)
        return self.loaded.settings


class AgentProtocol(LanguageServerProtocol):
    """pygls's protocol, plus the capabilities pygls does not derive from registered features."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        commands = result.capabilities.execute_command_provider
        if commands is not None:
            commands.work_done_progress = True  # agentls.edit / agentls.task report $/progress
        return result

    # pygls keeps a copy of every open document (``workspace``) and applies each change to it before our
    # handler applies it to ours (``handlers.documents.OpenDocument``: an incremental line index with LSP's
    # line breaks, and the tree-sitter tree). One copy is enough: these three hand the notification
    # straight to our handler and leave pygls's store empty (nothing reads it).
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._ours(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._ours(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._ours(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _ours(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not parse without answering it; answer it."""
        try:
            return super().structure_message(data)
        except Exception as exc:
            if "id" in data and "method" in data:
                from pygls.exceptions import JsonRpcInvalidParams

                detail = _describe_structure_error(exc.__cause__ or exc)
                error = JsonRpcInvalidParams(f"invalid params for {data['method']}: {detail}")
                self._send_response(data["id"], None, error.to_response_error())
            raise


def _describe_structure_error(exc: BaseException) -> str:
    try:
        from cattrs import transform_error

        return "; ".join(transform_error(exc)[:3])
    except Exception:
        return str(exc) or type(exc).__name__


class AgentLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "agentls", __version__, types.TextDocumentSyncKind.Incremental, protocol_cls=AgentProtocol
        )
        self.state = ServerState()
        from agentls.lsp.client import ClientFeatures
        from agentls.runtime import Runtime

        #: What the editor can do, read once at ``initialize``.
        self.client_features = ClientFeatures()

        #: The core, as this server uses it; sessions run in its agent host, a process of their own.
        self.runtime: Runtime = Runtime(lambda: self.state.root, lambda: self.state.settings, host=True)
        self.stall_watch: StallWatch | None = None
        #: Set once the settings are read (``initialized``); what needs them before waits for it.
        self.settings_loaded = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        from agentls.lsp.agent import AgentRunner
        from agentls.lsp.handlers.review import ReviewService
        from agentls.lsp.questions import EditorQuestions

        #: The core's questions, put to the user in the editor.
        self.questions = EditorQuestions(self)
        self.runtime.asker = self.questions
        self.agent: AgentRunner = AgentRunner(self)
        self.review: ReviewService = ReviewService(self)
        from agentls.lsp.context import ContextService

        self.context: ContextService = ContextService(self)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio; a malformed message costs only itself (``framing``), not the ones after it."""
        from agentls.lsp.framing import start_io

        start_io(self, stdin, stdout)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` in the background, keeping a reference so that it is not collected mid-way."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def position_encoding(self) -> str:
        from agentls.lsp.convert import encoding_name

        return encoding_name(self.workspace.position_encoding)

    def notify_user(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """One clear line for the user; the details are already in the log."""
        from agentls.secrets import redact

        self.window_show_message(types.ShowMessageParams(type=kind, message=f"agentls: {redact(message)}"))

    def warn_once(self, message: str) -> None:
        """Show a warning the first time it occurs (bad settings are reported once, not per reload)."""
        log.warning("%s", message)
        if message not in self.state.shown_warnings:
            self.state.shown_warnings.add(message)
            self.notify_user(message, types.MessageType.Warning)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request: full detail to the log, one line to the user."""
        from pygls.exceptions import FeatureRequestError, JsonRpcException

        if source is JsonRpcException:  # a message that could not be read: the client's fault
            log.warning("ignored a malformed message: %s", error)
            return
        log.error("internal error (%s)", getattr(source, "__name__", source), exc_info=error)
        if source is FeatureRequestError:
            return  # the JSON-RPC error response already tells the client
        try:
            self.notify_user(f"internal error: {error} (details in the log)")
        except Exception:  # pragma: no cover - the connection itself is gone
            log.debug("could not report the error to the client", exc_info=True)
