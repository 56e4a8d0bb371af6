"""What the server reads from the editor at ``initialize``: its features, once, and typed options; and the
one workspace-edit builder that respects those features."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from agentls.lsp.client import ClientFeatures
from agentls.lsp.init_options import InitOptions
from agentls.lsp.workspace_edit import WorkspaceEditBuilder

EDIT = types.TextEdit(types.Range(types.Position(0, 0), types.Position(0, 1)), "x")


@pytest.mark.parametrize(("client", "expected"), [
    ("neovim", ClientFeatures(document_changes=True, resource_operations=frozenset({"create", "rename", "delete"}),
                              change_annotations=False, show_document=True, work_done_progress=True,
                              file_watching=False)),
    ("visual_studio_code", ClientFeatures(document_changes=True,
                                          resource_operations=frozenset({"create", "rename", "delete"}),
                                          change_annotations=True, show_document=True, work_done_progress=True,
                                          file_watching=True)),
])
def test_the_features_of_real_editors(client: str, expected: ClientFeatures) -> None:
    assert ClientFeatures.of(client_capabilities(client)) == expected


def test_a_bare_client_gets_plain_changes_and_no_file_operations() -> None:
    features = ClientFeatures.of(types.ClientCapabilities())
    assert features == ClientFeatures()
    builder = WorkspaceEditBuilder(features)
    assert not builder
    assert builder.create("file:///a.py") is False
    assert builder.delete("file:///a.py") is False
    assert builder.annotate("x", types.ChangeAnnotation("label")) is False
    builder.edit("file:///a.py", 3, [EDIT])
    builder.edit("file:///a.py", 3, [EDIT])
    edit = builder.build()
    assert edit.document_changes is None
    assert edit.changes == {"file:///a.py": [EDIT, EDIT]}


def test_a_capable_client_gets_versioned_changes_in_order() -> None:
    builder = WorkspaceEditBuilder(ClientFeatures.of(client_capabilities("visual_studio_code")))
    assert builder.create("file:///new.py")
    builder.edit("file:///new.py", None, [EDIT])
    assert builder.delete("file:///old.py")
    assert builder.annotate("a", types.ChangeAnnotation("label", needs_confirmation=True))
    edit = builder.build()
    kinds = [type(change).__name__ for change in edit.document_changes or []]
    assert kinds == ["CreateFile", "TextDocumentEdit", "DeleteFile"]
    assert edit.change_annotations is not None
    assert edit.change_annotations["a"].needs_confirmation


@pytest.mark.parametrize(("raw", "options", "warnings"), [
    (None, InitOptions(), []),
    ({"inlineProposals": True, "settings": {"agentls": {"review": "confirm"}}},
     InitOptions(True, {"review": "confirm"}), []),
    ({"settings": {"review": "confirm"}}, InitOptions(False, {"review": "confirm"}), []),
    ({"inlineProposals": "yes", "settings": [1], "colour": "blue"}, InitOptions(),
     ["initializationOptions.colour: unknown option, ignored",
      "initializationOptions.inlineProposals must be true or false, got 'yes'; using false",
      "initializationOptions.settings must be an object, got list; ignored"]),
    ("inline", InitOptions(), ["initializationOptions must be an object, got str; ignored"]),
])
def test_initialization_options_are_typed_and_wrong_values_are_warnings(
        raw: object, options: InitOptions, warnings: list[str]) -> None:
    assert InitOptions.parse(raw) == (options, warnings)
