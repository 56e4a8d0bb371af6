"""The one way the server builds a ``WorkspaceEdit``: versioned ``documentChanges`` when the editor takes
them, else the plain ``changes`` map; file operations only when the editor declared them (``create`` /
``delete`` answer False otherwise, and the caller does the file operation another way)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from agentls.lsp.client import ClientFeatures


class WorkspaceEditBuilder:
    def __init__(self, features: ClientFeatures) -> None:
        self.features = features
        self._changes: list[Any] = []  # TextDocumentEdit | CreateFile | DeleteFile, in order
        self._plain: dict[str, list[types.TextEdit]] = {}
        self._annotations: dict[str, types.ChangeAnnotation] = {}

    def __bool__(self) -> bool:
        return bool(self._changes or self._plain)

    def edit(self, uri: str, version: int | None, edits: Sequence[types.TextEdit | types.AnnotatedTextEdit]) -> None:
        """Text edits to one document (``version``: the one the offsets were computed on; None: any)."""
        if not edits:
            return
        if self.features.document_changes:
            self._changes.append(types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=list(edits)))
        else:
            self._plain.setdefault(uri, []).extend(types.TextEdit(e.range, e.new_text) for e in edits)

    def annotate(self, annotation_id: str, annotation: types.ChangeAnnotation) -> bool:
        """Declare an annotation for ``AnnotatedTextEdit``s; False when the editor does not support them."""
        if not self.features.change_annotations:
            return False
        self._annotations[annotation_id] = annotation
        return True

    def create(self, uri: str) -> bool:
        """Create ``uri`` if it does not exist; False: the editor cannot (nothing was added)."""
        if "create" not in self.features.resource_operations:
            return False
        self._changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)))
        return True

    def delete(self, uri: str) -> bool:
        """Delete ``uri``; False: the editor cannot (nothing was added)."""
        if "delete" not in self.features.resource_operations:
            return False
        self._changes.append(types.DeleteFile(uri=uri, options=types.DeleteFileOptions(ignore_if_not_exists=True)))
        return True

    def build(self) -> types.WorkspaceEdit:
        if self.features.document_changes:
            return types.WorkspaceEdit(document_changes=list(self._changes),
                                       change_annotations=dict(self._annotations) or None)
        return types.WorkspaceEdit(changes=dict(self._plain))
