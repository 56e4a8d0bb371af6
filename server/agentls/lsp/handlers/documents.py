"""didOpen / didChange / didClose / didSave: our copy of each open document, kept in step incrementally.

Every change is applied to the document's line index (for position conversion) and, for languages
whose syntax diagnostics are published, to its tree-sitter document; the diagnostics publisher is
then told the document changed (it debounces), and so is the context engine (it re-tags the file, debounced).
Saves and watched-file events reach the context engine too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from agentls.lsp.convert import LineIndex, from_range
from agentls.lsp.handlers.diagnostics import DiagnosticsPublisher
from agentls.lsp.server import AgentLanguageServer

if TYPE_CHECKING:
    from agentls.syntax.document import SyntaxDocument

log = logging.getLogger(__name__)


@dataclass
class OpenDocument:
    uri: str
    version: int
    language: str | None
    lines: LineIndex
    syntax: SyntaxDocument | None = None

    @property
    def text(self) -> str:
        return self.lines.text

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = from_range(self.lines, change.range, encoding)
            self.lines.replace(start, end, change.text)
            if self.syntax is not None:
                self.syntax.edit(start, end, change.text)
        else:
            self.lines = LineIndex(change.text)
            if self.syntax is not None:
                self.syntax.edit(0, len(self.syntax.text), change.text)


def detect(uri: str, language_id: str | None, text: str) -> str | None:
    from agentls.syntax.languages import detect_language

    return detect_language(path=to_fs_path(uri) or uri, language_id=language_id, text=text[:256])


async def _open_when_ready(server: AgentLanguageServer, uri: str) -> None:
    await server.settings_loaded.wait()
    doc = server.state.documents.get(uri)
    if doc is not None and server.state.diagnostics is not None:
        server.state.diagnostics.opened(doc)
        server.context.opened(uri)


def register(server: AgentLanguageServer) -> None:
    state = server.state
    publisher = state.diagnostics = DiagnosticsPublisher(server)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        doc = OpenDocument(item.uri, item.version, detect(item.uri, item.language_id, item.text),
                           LineIndex(item.text))
        state.documents[item.uri] = doc
        if server.settings_loaded.is_set():
            publisher.opened(doc)
            server.context.opened(item.uri)
        else:  # opened before the settings are read: check it as soon as they are
            server.spawn(_open_when_ready(server, item.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = state.documents.get(params.text_document.uri)
        if doc is None:
            log.warning("didChange for a document that is not open: %s", params.text_document.uri)
            return
        encoding = server.position_encoding
        for change in params.content_changes:
            doc.apply(change, encoding)
        doc.version = params.text_document.version
        publisher.changed(doc)
        server.context.changed(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        doc = state.documents.pop(params.text_document.uri, None)
        if doc is not None:
            publisher.closed(doc)
        server.context.closed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        server.context.saved(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        server.context.watched(params.changes)
