"""Syntax diagnostics from a real ``agentls serve``, with Neovim's and VS Code's capabilities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types

from agentls.syntax.languages import load_languages
from tests.e2e.conftest import Session
from tests.e2e.harness import change_document, open_document, start

FIXTURES = Path(__file__).parents[1] / "fixtures" / "languages"
PUBLISHING = sorted(lang for lang, spec in load_languages().items() if spec.publish_diagnostics)


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _encoding(session: Session) -> str:
    chosen = session.result.capabilities.position_encoding
    return str(getattr(chosen, "value", chosen) or "utf-16")


async def test_a_broken_file_gets_a_precise_diagnostic(session: Session) -> None:
    uri = open_document(session.client, session.workspace / "broken.py", "python",
                        "def f(a, b):\n    return (a +\n        b\n")
    diagnostics = await session.client.diagnostics_for(uri, version=1)
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.message == "unclosed '('"
    assert diagnostic.source == "agentls"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range == types.Range(types.Position(1, 11), types.Position(1, 12))


@pytest.mark.parametrize("language", PUBLISHING)
async def test_valid_files_get_no_diagnostics(session: Session, language: str) -> None:
    expected = json.loads((FIXTURES / language / "expected.json").read_text())
    path = FIXTURES / language / expected["valid"]
    target = session.workspace / path.name
    uri = open_document(session.client, target, language, path.read_text(encoding="utf-8"))
    assert await session.client.diagnostics_for(uri, version=1) == []


async def test_ranges_count_in_the_negotiated_encoding(session: Session) -> None:
    prefix = 's = "😀中文"; foo(1'
    text = prefix + ",, 2)\n"
    uri = open_document(session.client, session.workspace / "wide.py", "python", text)
    diagnostics = await session.client.diagnostics_for(uri, version=1)
    assert [d.message for d in diagnostics] == ["unexpected ','"]
    column = _units(prefix, _encoding(session))  # the first ',' of ",," is where the parse breaks
    assert diagnostics[0].range.start == types.Position(0, column)
    assert diagnostics[0].range.end == types.Position(0, column + 1)
    # The same code point offset in UTF-16 differs from the code point count: the emoji is 2 units.
    assert _units("😀", "utf-16") == 2


async def test_incremental_changes_update_the_diagnostics(session: Session) -> None:
    client = session.client
    uri = open_document(client, session.workspace / "inc.py", "python", "y = 3\nx = [1, 2]\n")
    assert await client.diagnostics_for(uri, version=1) == []

    change_document(client, uri, 2, (1, 9), (1, 10), "")  # delete the ']'
    broken = await client.diagnostics_for(uri, version=2)
    assert [d.message for d in broken] == ["unclosed '['"]
    assert broken[0].range.start == types.Position(1, 4)

    change_document(client, uri, 3, (1, 9), (1, 9), "]")  # put it back
    assert await client.diagnostics_for(uri, version=3) == []


async def test_a_burst_of_changes_is_checked_once_for_the_latest_version(session: Session) -> None:
    client = session.client
    uri = open_document(client, session.workspace / "burst.py", "python", "x = 1\n")
    await client.diagnostics_for(uri, version=1)
    for version, char in enumerate("(((", start=2):
        change_document(client, uri, version, (0, 4 + version - 2), (0, 4 + version - 2), char)
    latest = await client.diagnostics_for(uri, version=4)
    assert latest  # "x = (((1" is broken
    published_versions = [p.version for p in client.published if p.uri == uri]
    assert published_versions[-1] == 4
    assert 2 not in published_versions  # debounced away
    assert 3 not in published_versions


async def test_closing_clears_the_diagnostics(session: Session) -> None:
    client = session.client
    uri = open_document(client, session.workspace / "c.py", "python", "x = (\n")
    assert await client.diagnostics_for(uri, version=1)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await client.wait_until(lambda: client.published[-1].uri == uri and not client.published[-1].diagnostics)


async def test_false_alarm_languages_publish_only_when_asked(tmp_path: Path, workspace: Path) -> None:
    source = "LUA_API int f(void) { return 1 }\n"  # missing ';' and a macro the C grammar trips on
    client, _ = await start("visual_studio_code", workspace, tmp_path / "home")
    try:
        c_uri = open_document(client, workspace / "a.c", "c", source)
        py_uri = open_document(client, workspace / "b.py", "python", "x = 1\n")
        await client.diagnostics_for(py_uri, version=1)  # processed after a.c was opened
        assert all(p.uri != c_uri for p in client.published)

        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"agentls": {"diagnostics": {"languages": ["c", "python"]}}}))
        assert await client.diagnostics_for(c_uri, version=1)
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_files_in_unknown_languages_are_not_validated(session: Session) -> None:
    client = session.client
    uri = open_document(client, session.workspace / "notes.xyz", "plaintext", "((( not code\n")
    marker = open_document(client, session.workspace / "m.py", "python", "x = 1\n")
    await client.diagnostics_for(marker, version=1)
    assert all(p.uri != uri for p in client.published)


async def test_a_document_over_the_size_cap_is_not_checked_and_says_so(tmp_path: Path, workspace: Path) -> None:
    client, _ = await start("neovim", workspace, tmp_path / "home",
                            initialization_options={"settings": {"diagnostics": {"maxDocumentBytes": 5_000}}})
    try:
        small = open_document(client, workspace / "small.py", "python", "def f(:\n")
        assert len(await client.diagnostics_for(small, version=1)) == 1
        big = open_document(client, workspace / "big.py", "python", "x = 1\n" * 2_000 + "def f(:\n")
        notice = await client.wait_until(lambda: [m.message for m in client.messages if "big.py" in m.message])
        assert notice == ["agentls: big.py is larger than diagnostics.max_document_bytes (5,000 bytes): "
                          "it is not syntax-checked"]
        change_document(client, big, 2, (0, 0), (0, 0), "# more\n")
        assert len(await client.diagnostics_for(small, version=1)) == 1  # the server is still answering
        latest = client.latest_diagnostics(big)
        assert latest is None or latest.diagnostics == []
    finally:
        await client.shutdown_session()
        await client.stop()
