"""What the editor can do, read once from its ``initialize`` capabilities (instead of each feature digging
through ``ClientCapabilities``, or not checking at all)."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types


@dataclass(frozen=True)
class ClientFeatures:
    #: ``WorkspaceEdit.documentChanges`` (versioned edits); else only the ``changes`` map.
    document_changes: bool = False
    #: File operations inside ``documentChanges``: a subset of {"create", "rename", "delete"}.
    resource_operations: frozenset[str] = frozenset()
    #: Edits that need the user's confirmation (``review = "confirm"``).
    change_annotations: bool = False
    #: ``window/showDocument``.
    show_document: bool = False
    #: ``$/progress`` for work the server starts.
    work_done_progress: bool = False
    #: ``client/registerCapability`` for ``workspace/didChangeWatchedFiles``.
    file_watching: bool = False

    @classmethod
    def of(cls, caps: types.ClientCapabilities) -> ClientFeatures:
        workspace, window = caps.workspace, caps.window
        edit = workspace.workspace_edit if workspace else None
        operations = frozenset(str(op.value) for op in (edit.resource_operations or [])) if edit else frozenset()
        # Resource operations exist only inside documentChanges, so a client that declares them (Neovim
        # does, without declaring documentChanges itself) handles versioned edits too.
        document_changes = bool(edit and (edit.document_changes or operations))
        watched = workspace.did_change_watched_files if workspace else None
        return cls(
            document_changes=document_changes,
            resource_operations=operations if document_changes else frozenset(),
            change_annotations=bool(edit and edit.document_changes and edit.change_annotation_support is not None),
            show_document=bool(window and window.show_document and window.show_document.support),
            work_done_progress=bool(window and window.work_done_progress),
            file_watching=bool(watched and watched.dynamic_registration),
        )
