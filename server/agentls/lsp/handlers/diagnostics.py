"""Syntax diagnostics: tree-sitter errors published per document, debounced.

A burst of keystrokes costs one incremental reparse: edits are applied to the tree as they arrive
and the reparse + error scan runs once the document has been quiet for ``debounce_ms``. Only
languages whose grammar raises no false alarms on real code publish by default (the
``publish_diagnostics`` flag in grammars/languages.toml; ``diagnostics.languages`` overrides it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from agentls.lsp.convert import to_range
from agentls.lsp.debounce import Debouncer

if TYPE_CHECKING:
    from agentls.lsp.handlers.documents import OpenDocument
    from agentls.lsp.server import AgentLanguageServer

log = logging.getLogger(__name__)
SOURCE = "agentls"


class DiagnosticsPublisher:
    def __init__(self, server: AgentLanguageServer) -> None:
        self._server = server
        self._debounce: Debouncer[str] = Debouncer()  # per document URI
        self._published: set[str] = set()

    def _publishes(self, language: str | None) -> bool:
        settings = self._server.state.settings.diagnostics
        if language is None or not settings.enabled:
            return False
        if settings.languages is not None:
            return language in settings.languages
        from agentls.syntax.languages import load_languages

        spec = load_languages().get(language)
        return spec is not None and spec.publish_diagnostics

    def opened(self, doc: OpenDocument) -> None:
        self._attach(doc)
        self._schedule(doc, immediately=True)

    def changed(self, doc: OpenDocument) -> None:
        if doc.syntax is not None and self._too_large(doc):
            self._attach(doc)
        self._schedule(doc)

    def _too_large(self, doc: OpenDocument) -> bool:
        limit = self._server.state.settings.diagnostics.max_document_bytes
        return len(doc.text) > limit and len(doc.text.encode("utf-8", "surrogatepass")) > limit

    def closed(self, doc: OpenDocument) -> None:
        self._debounce.cancel(doc.uri)
        if self._server.review.book.for_uri(doc.uri):
            self.refresh(doc.uri)  # pending agent changes stay visible (hints only; syntax errors go)
        else:
            self._clear(doc.uri)

    def settings_changed(self) -> None:
        for doc in self._server.state.documents.values():
            self._attach(doc)
            self._schedule(doc, immediately=True)

    def close(self) -> None:
        self._debounce.cancel_all()

    def _attach(self, doc: OpenDocument) -> None:
        if self._publishes(doc.language) and self._too_large(doc):
            limit = self._server.state.settings.diagnostics.max_document_bytes
            name = doc.uri.rsplit("/", 1)[-1]
            self._server.warn_once(f"{name} is larger than diagnostics.max_document_bytes ({limit:,} bytes): "
                                   "it is not syntax-checked")
            doc.syntax = None
            self._clear(doc.uri)
        elif self._publishes(doc.language):
            if doc.syntax is None and doc.language is not None:
                from agentls.syntax.document import SyntaxDocument

                doc.syntax = SyntaxDocument(doc.text, doc.language)
        else:
            doc.syntax = None
            self._clear(doc.uri)

    def refresh(self, uri: str) -> None:
        """Publish again now (the agent's pending changes for ``uri`` changed)."""
        doc = self._server.state.documents.get(uri)
        if doc is not None:
            self._schedule(doc, immediately=True, force=True)
        else:  # not open: hints only, anchored on the proposal's text
            self._send(uri, self._server.review.hints(None, uri), None)
            self._published.add(uri)

    def _schedule(self, doc: OpenDocument, immediately: bool = False, force: bool = False) -> None:
        if doc.syntax is None and not force and not self._server.review.book.for_uri(doc.uri):
            return
        delay = 0.0 if immediately else self._server.state.settings.diagnostics.debounce_ms / 1000
        uri = doc.uri
        self._debounce.schedule(uri, delay, lambda: self._publish(uri))

    def _clear(self, uri: str) -> None:
        if uri in self._published:
            self._published.discard(uri)
            self._send(uri, [], None)

    def _publish(self, uri: str) -> None:
        doc = self._server.state.documents.get(uri)
        if doc is None:
            return
        try:
            issues = doc.syntax.errors() if doc.syntax is not None else []
        except Exception:
            log.exception("syntax check failed for %s", uri)
            issues = []
        encoding = self._server.position_encoding
        diagnostics = [
            types.Diagnostic(
                range=to_range(doc.lines, issue.start, issue.end, encoding),
                message=issue.message,
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
            )
            for issue in issues
        ]
        diagnostics += self._server.review.hints(doc, uri)
        if doc.syntax is None and not diagnostics and uri not in self._published:
            return
        # Sent even when empty: it clears earlier errors, and tells the client the file was checked.
        self._send(uri, diagnostics, doc.version)
        self._published.add(uri)

    def _send(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> None:
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )
