"""SyntaxDocument: incremental edits must leave the same text, tree and errors as a fresh parse."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentls.syntax.document import SyntaxDocument
from agentls.syntax.parser import parse
from agentls.syntax.validate import SyntaxIssue, errors
from tests.unit.syntax_samples import PIECES, SOURCE, nodes


def _assert_matches_fresh_parse(doc: SyntaxDocument, text: str) -> None:
    """Valid text: the same tree and no error, as a fresh parse. Broken text: errors are reported, as a
    fresh parse reports them, though not always the same ones: tree-sitter's error recovery may shape an
    ERROR subtree differently when it reparses incrementally (seen after an unclosed quote: "unexpected
    'add'" where a fresh parse says "unclosed '('")."""
    assert doc.text == text
    fresh = parse(text, doc.language)
    assert fresh is not None
    assert doc.tree.root_node.has_error == fresh.root_node.has_error
    assert bool(doc.errors()) == bool(errors(text, doc.language))
    if not fresh.root_node.has_error:
        assert str(doc.tree.root_node) == str(fresh.root_node)
        assert nodes(doc.tree) == nodes(fresh)
        assert doc.errors() == []


@st.composite
def edits(draw: st.DrawFn, length: int) -> tuple[float, float, str]:
    start = draw(st.floats(0, 1))
    size = draw(st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.2]))
    new_text = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=4)))
    return start, size, new_text


@settings(max_examples=150)
@given(st.lists(edits(len(SOURCE)), min_size=1, max_size=8))
@example([(0.515625, 0.0, "'"), (0.0, 0.2, ""), (0.0, 0.2, ""), (0.0, 0.2, ""), (0.1875, 0.0, "'")])
def test_random_edits_match_a_fresh_parse(steps: list[tuple[float, float, str]]) -> None:
    doc = SyntaxDocument(SOURCE, "python")
    text = SOURCE
    for start_fraction, size_fraction, new_text in steps:
        start = int(start_fraction * len(text))
        end = min(len(text), start + int(size_fraction * len(text)))
        doc.edit(start, end, new_text)
        text = text[:start] + new_text + text[end:]
        _assert_matches_fresh_parse(doc, text)


def test_an_edit_that_breaks_then_fixes_the_file() -> None:
    doc = SyntaxDocument(SOURCE, "python")
    assert doc.errors() == []
    at = SOURCE.index("self.items.values())") + len("self.items.values(")
    doc.edit(at, at + 1, "")  # drop a ')'
    text = SOURCE[:at] + SOURCE[at + 1 :]
    line = text.index("return math.fsum")
    assert doc.errors() == [SyntaxIssue(line, text.index("\n", line), "unexpected 'return'")]
    _assert_matches_fresh_parse(doc, text)
    doc.edit(at, at, ")")
    assert doc.errors() == []
    _assert_matches_fresh_parse(doc, SOURCE)


def test_edits_in_non_ascii_text_use_code_point_offsets() -> None:
    doc = SyntaxDocument(SOURCE, "python")
    at = SOURCE.index("こんにちは")
    doc.edit(at, at + len("こんにちは"), "👋")
    expected = SOURCE.replace("こんにちは", "👋")
    _assert_matches_fresh_parse(doc, expected)
    # Deleting the document's every non-ASCII character brings it back to the ASCII fast path.
    for char in sorted({c for c in expected if not c.isascii()}):
        while char in doc.text:
            at = doc.text.index(char)
            doc.edit(at, at + 1, "")
    assert doc.text.isascii()
    doc.edit(0, 0, "# top\n")
    _assert_matches_fresh_parse(doc, doc.text)


def test_edits_at_the_ends_of_the_document() -> None:
    doc = SyntaxDocument("x = 1\n", "python")
    doc.edit(len(doc.text), len(doc.text), "y = (\n")
    _assert_matches_fresh_parse(doc, "x = 1\ny = (\n")
    doc.edit(0, 0, "\n\n")
    _assert_matches_fresh_parse(doc, "\n\nx = 1\ny = (\n")
    doc.edit(0, len(doc.text), "")
    _assert_matches_fresh_parse(doc, "")


def test_edit_outside_the_document_is_refused() -> None:
    doc = SyntaxDocument("x = 1\n", "python")
    with pytest.raises(IndexError):
        doc.edit(3, 100, "")
    with pytest.raises(IndexError):
        doc.edit(4, 3, "")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="cobol"):
        SyntaxDocument("IDENTIFICATION DIVISION.", "cobol")
